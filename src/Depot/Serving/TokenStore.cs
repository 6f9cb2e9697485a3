using Depot.Posix;

namespace Depot.Serving;

/// <summary>What a presented token turned out to be.</summary>
public enum TokenStatus
{
    /// <summary>A live token: <see cref="TokenCheck.Token"/> says for which cache and scope.</summary>
    Valid,

    /// <summary>Not a token's shape, or no token with its id and hash (never made, or revoked).</summary>
    Unknown,

    /// <summary>A token whose expiry has passed (<see cref="TokenCheck.Token"/> says when).</summary>
    Expired,
}

/// <summary>The answer to one presented token; the token's text is not part of it.</summary>
public sealed record TokenCheck(TokenStatus Status, TokenRecord? Token);

/// <summary>
/// The server's tokens, kept in one file (serve.yaml's <c>tokens_file</c>) that every replica and the
/// <c>depot serve token</c> commands share. Changes (create, revoke) take an exclusive lock on <c>FILE.lock</c>,
/// read the file, and replace it atomically, so two concurrent creates from two processes both land. A running
/// server re-reads the file when it changes (inode, size or time; checked at most every second), so a revocation
/// counts within a second and a new token at once, without a restart.
/// </summary>
public sealed class TokenStore
{
    private static readonly TimeSpan RecheckAfter = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    private readonly TimeProvider time;
    private readonly Lock gate = new();
    private Snapshot? current;

    /// <summary>The store on <paramref name="path"/> (which need not exist yet: no tokens).</summary>
    public TokenStore(string path, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        Path = System.IO.Path.GetFullPath(path);
        this.time = time ?? TimeProvider.System;
    }

    /// <summary>The tokens file.</summary>
    public string Path { get; }

    /// <summary>
    /// Makes a token for <paramref name="cache"/> with <paramref name="scope"/>, living
    /// <paramref name="lifetime"/> (null: until revoked). The text returned is the only copy there will ever be.
    /// </summary>
    /// <exception cref="DepotException">The file cannot be locked, read or written.</exception>
    public async Task<(TokenRecord Token, string Text)> CreateAsync(string cache, TokenScope scope,
        TimeSpan? lifetime, string? name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cache);
        var now = time.GetUtcNow();
        now = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond)); // the file keeps whole seconds
        var (id, text) = AccessToken.Generate();
        var record = new TokenRecord(id, AccessToken.Hash(text), string.IsNullOrWhiteSpace(name) ? null : name.Trim(),
            cache, scope, now, lifetime is { } l ? now + l : null);
        await ChangeAsync(tokens => tokens.Add(record), cancellationToken).ConfigureAwait(false);
        return (record, text);
    }

    /// <summary>Every token (expired ones too), oldest first, as the file says now.</summary>
    /// <exception cref="DepotException">The file cannot be read or is not a tokens file.</exception>
    public async Task<IReadOnlyList<TokenRecord>> ListAsync(CancellationToken cancellationToken) =>
        await ReadAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Removes the token whose id (or, failing that, whose name) is <paramref name="idOrName"/>; from then on it is
    /// unknown to every server reading the file.
    /// </summary>
    /// <exception cref="DepotException">No such token, or a name several tokens carry (usage, naming their ids).
    /// </exception>
    public async Task<TokenRecord> RevokeAsync(string idOrName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(idOrName);
        TokenRecord? revoked = null;
        await ChangeAsync(tokens =>
        {
            var id = AccessToken.IdOf(idOrName) ?? idOrName; // a whole token pasted: its id, the text is not echoed
            var matches = tokens.Where(t => t.Id == id).ToList();
            if (matches.Count == 0)
            {
                matches = tokens.Where(t => t.Name == idOrName).ToList();
            }

            revoked = matches.Count switch
            {
                0 => throw new DepotException(ErrorKind.NotFound,
                    $"{Path}: no token with id or name '{(id == idOrName ? idOrName : id)}'"),
                1 => matches[0],
                _ => throw new DepotException(ErrorKind.Usage, $"{Path}: {matches.Count} tokens are named "
                    + $"'{idOrName}' ({string.Join(", ", matches.Select(t => t.Id))}): give the id"),
            };
            tokens.Remove(revoked);
        }, cancellationToken).ConfigureAwait(false);
        return revoked!;
    }

    /// <summary>
    /// What <paramref name="text"/> is: a valid token (and which), an expired one, or unknown (revoked, never made,
    /// or not a token at all). Uses the file as last read, re-read when it changed (at most a second stale).
    /// </summary>
    /// <exception cref="DepotException">The file cannot be read or is not a tokens file.</exception>
    public TokenCheck Check(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (AccessToken.IdOf(text) is not { } id)
        {
            return new TokenCheck(TokenStatus.Unknown, null);
        }

        // An id not seen yet re-checks the file at once (a stat: cheap), so a token works the moment it is made;
        // a revocation is seen at the next check, within a second.
        var snapshot = Current(force: false);
        if (!snapshot.ById.ContainsKey(id))
        {
            snapshot = Current(force: true);
        }

        if (!snapshot.ById.TryGetValue(id, out var record) || !AccessToken.Matches(text, record.Sha256))
        {
            return new TokenCheck(TokenStatus.Unknown, null);
        }

        return new TokenCheck(record.IsExpired(time.GetUtcNow()) ? TokenStatus.Expired : TokenStatus.Valid, record);
    }

    private Snapshot Current(bool force)
    {
        var now = time.GetTimestamp();
        lock (gate)
        {
            if (current is not null && !force && time.GetElapsedTime(current.CheckedAt, now) < RecheckAfter)
            {
                return current;
            }

            var (stamp, bytes) = ReadIfChanged(current?.Stamp);
            current = bytes is null && current is not null ? current with { CheckedAt = now }
                : new Snapshot(stamp, now, TokenFile.Parse(Path, bytes ?? [])
                    .GroupBy(t => t.Id).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal));
            return current;
        }
    }

    /// <summary>The file's identity now, and its bytes when that differs from <paramref name="known"/>.</summary>
    private (FileStamp? Stamp, byte[]? Bytes) ReadIfChanged(FileStamp? known)
    {
        try
        {
            using var handle = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite
                | FileShare.Delete);
            var status = FileStatus.Of(handle);
            var stamp = new FileStamp(status.Device, status.Inode, status.Size, File.GetLastWriteTimeUtc(handle));
            if (stamp == known)
            {
                return (stamp, null);
            }

            var bytes = new byte[checked((int)Math.Min(status.Size, 64 << 20))];
            var read = 0;
            while (read < bytes.Length && RandomAccess.Read(handle, bytes.AsSpan(read), read) is var n and > 0)
            {
                read += n;
            }

            return (stamp, bytes[..read]);
        }
        catch (FileNotFoundException)
        {
            return (null, known is null ? null : []);
        }
        catch (DirectoryNotFoundException)
        {
            return (null, known is null ? null : []);
        }
    }

    private async Task<List<TokenRecord>> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return TokenFile.Parse(Path, await File.ReadAllBytesAsync(Path, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }
    }

    private async Task ChangeAsync(Action<List<TokenRecord>> change, CancellationToken cancellationToken)
    {
        var folder = System.IO.Path.GetDirectoryName(Path)!;
        Directory.CreateDirectory(folder);
        using var held = await PosixFileLock.AcquireAsync(Path + ".lock", exclusive: true, LockTimeout,
            cancellationToken).ConfigureAwait(false);
        var tokens = await ReadAsync(cancellationToken).ConfigureAwait(false);
        change(tokens);
        await TokenFile.WriteAsync(Path, tokens, cancellationToken).ConfigureAwait(false);
    }

    private readonly record struct FileStamp(ulong Device, ulong Inode, long Size, DateTime Modified);

    private sealed record Snapshot(FileStamp? Stamp, long CheckedAt, Dictionary<string, TokenRecord> ById);
}
