// Depot runs on Linux and macOS (install trees, POSIX permissions, symlinks, hard links, fcntl locks).
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
