using System.Globalization;

namespace Depot.Serving;

/// <summary>One token as the tokens file keeps it: everything but the secret, which only its hash stands for.</summary>
/// <param name="Id">The public id (<c>dpt_&lt;id&gt;_…</c>): what lists, logs and revocations use.</param>
/// <param name="Sha256">SHA-256 of the token's text (<see cref="AccessToken.Hash"/>).</param>
/// <param name="Name">A label its creator chose, or null.</param>
/// <param name="Cache">The one cache it opens.</param>
/// <param name="Scope">What it may do there.</param>
/// <param name="Created">When it was made (UTC).</param>
/// <param name="Expires">When it stops working (UTC), or null for never.</param>
public sealed record TokenRecord(string Id, string Sha256, string? Name, string Cache, TokenScope Scope,
    DateTimeOffset Created, DateTimeOffset? Expires)
{
    /// <summary>True once <see cref="Expires"/> has passed.</summary>
    public bool IsExpired(DateTimeOffset now) => Expires is { } e && e <= now;

    /// <summary>The id and the label, the way a person reads it (<c>3fa9c0d1e2b4 (ci-push)</c>).</summary>
    public string Display => Name is null ? Id : $"{Id} ({Name})";
}

/// <summary>Scope names as users type them and the tokens file stores them.</summary>
public static class TokenScopes
{
    /// <summary><c>read</c>, <c>push</c> or <c>admin</c>.</summary>
    public static string Name(this TokenScope scope) => scope.ToString().ToLowerInvariant();

    /// <summary>The scope named <paramref name="text"/>, or null.</summary>
    public static TokenScope? Parse(string text) => text switch
    {
        "read" => TokenScope.Read,
        "push" => TokenScope.Push,
        "admin" => TokenScope.Admin,
        _ => null,
    };
}

/// <summary>How long a token lives: <c>90m</c>, <c>12h</c>, <c>30d</c>, <c>8w</c>, or <c>never</c>.</summary>
public static class TokenLifetime
{
    /// <summary>The span <paramref name="text"/> says, or null for <c>never</c> / <c>none</c>.</summary>
    /// <exception cref="DepotException">Anything else (usage).</exception>
    public static TimeSpan? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim().ToLowerInvariant();
        if (trimmed is "never" or "none")
        {
            return null;
        }

        if (trimmed.Length >= 2
            && int.TryParse(trimmed.AsSpan(0, trimmed.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture,
                out var n)
            && n > 0 && n <= 100_000)
        {
            switch (trimmed[^1])
            {
                case 'm': return TimeSpan.FromMinutes(n);
                case 'h': return TimeSpan.FromHours(n);
                case 'd': return TimeSpan.FromDays(n);
                case 'w': return TimeSpan.FromDays(7 * n);
                default: break;
            }
        }

        throw new DepotException(ErrorKind.Usage,
            $"token lifetime '{text}': expected a number and a unit (90m, 12h, 30d, 8w) or never");
    }
}
