using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/SketchService.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
