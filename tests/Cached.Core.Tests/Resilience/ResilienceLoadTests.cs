namespace Cached.Tests.Resilience;

/// <summary>A source that fails half the time under concurrent callers: while a last value exists, nobody sees an error.</summary>
public sealed class ResilienceLoadTests : ResilienceFixture
{
    [Test]
    public async Task No_caller_sees_an_error_while_a_last_value_exists()
    {
        var options = new CacheEntryOptions
        {
            Ttl = TimeSpan.FromSeconds(1),
            FailSafe = TimeSpan.FromHours(1),
            FailSafeThrottle = TimeSpan.FromSeconds(0.5),
            SoftTimeout = TimeSpan.FromMilliseconds(200),
            EagerRefresh = 0.5,
        };
        const int Keys = 20;
        for (var key = 0; key < Keys; key++)
        {
            await Cache.GetOrSetAsync("k" + key, _ => new ValueTask<int>(0), options);
        }

        var calls = 0;
        var failures = 0;
        var errors = 0;
        var answers = 0;
        async ValueTask<int> HalfTheTimeFailing(CancellationToken _)
        {
            var call = Interlocked.Increment(ref calls);
            await Task.Yield();
            if (call % 2 == 0)
            {
                Interlocked.Increment(ref failures);
                throw new InvalidOperationException("source down");
            }

            return call;
        }

        int HalfTheTimeFailingSync(CancellationToken _)
        {
            var call = Interlocked.Increment(ref calls);
            if (call % 2 == 0)
            {
                Interlocked.Increment(ref failures);
                throw new InvalidOperationException("source down");
            }

            return call;
        }

        int ReadSync(int key) => Cache.GetOrSet("k" + key, HalfTheTimeFailingSync, options);

        // The clock moves past Ttl again and again on a thread of its own, so busy callers cannot hold it back.
        using var stop = new CancellationTokenSource();
        var clock = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                Time.Advance(TimeSpan.FromMilliseconds(250));
                Thread.Sleep(15);
            }
        });
        clock.Start();

        // 16 callers, half sync and half async, each make 300 calls over the 20 keys.
        var callers = Enumerable.Range(0, 16).Select(caller => Task.Run(async () =>
        {
            var random = new Random(caller);
            for (var i = 0; i < 300; i++)
            {
                var key = random.Next(Keys);
                try
                {
                    var value = caller % 2 == 0 ? await Cache.GetOrSetAsync("k" + key, HalfTheTimeFailing, options) : ReadSync(key);
                    if (value % 2 == 0 && value != 0)
                    {
                        throw new InvalidOperationException($"the value of a failed call: {value}");
                    }

                    Interlocked.Increment(ref answers);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref errors);
                }

                await Task.Delay(1);
            }
        })).ToArray();

        try
        {
            await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            await stop.CancelAsync();
            clock.Join();
        }

        Assert.That(errors, Is.Zero);
        Assert.That(failures, Is.GreaterThan(10), "the source did fail, often");
        Assert.That(answers, Is.EqualTo(16 * 300));
        TestContext.Out.WriteLine($"{answers} answers, {calls} factory calls, {failures} failed, {errors} errors");
    }
}
