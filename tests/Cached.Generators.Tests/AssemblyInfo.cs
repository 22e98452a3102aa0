// The scenarios share process-wide state (Caches, CacheScope, the default cache); tests run one at a time.
[assembly: NonParallelizable]
