// bench/startup.sh's baseline: what starting a .NET process costs here, with no work of its own.
Console.WriteLine("hello");
