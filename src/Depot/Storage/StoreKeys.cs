namespace Depot.Storage;

/// <summary>The one rule for object keys, shared by every store: relative, '/'-separated, no empty, '.' or '..'
/// parts.</summary>
public static class StoreKeys
{
    /// <exception cref="DepotException">The key could name something outside the mirror root.</exception>
    public static string Check(string key, string root)
    {
        if (key.Length == 0 || key.StartsWith('/') || key.Contains('\\', StringComparison.Ordinal)
            || key.Split('/').Any(part => part is "" or "." or ".."))
        {
            throw new DepotException($"invalid object key '{key}' in {root}");
        }

        return key;
    }
}
