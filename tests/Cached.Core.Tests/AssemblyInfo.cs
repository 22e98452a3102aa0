// Tests touch process-wide state (Cache.Disabled, Caches); they run one at a time.
[assembly: NonParallelizable]
