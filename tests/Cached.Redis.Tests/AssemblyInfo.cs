// One redis-server is shared by the assembly and some tests stop it; tests run one at a time.
[assembly: NonParallelizable]
