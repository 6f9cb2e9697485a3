// A store provider for the Depot engine, which runs on Linux and macOS only (see src/Depot/Platform.cs).
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
