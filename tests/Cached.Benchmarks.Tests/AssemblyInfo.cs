// The benchmarks touch process-wide state (Caches aliases, environment variables, the thread pool); tests run one at a time.
[assembly: NonParallelizable]
