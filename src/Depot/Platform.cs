// Depot works on Spack install trees, POSIX permissions, symlinks, hard links and fcntl locks: Linux and macOS.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
