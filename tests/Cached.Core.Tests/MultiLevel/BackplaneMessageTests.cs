namespace Cached.Tests.MultiLevel;

/// <summary>The backplane's wire form: compact, versioned, and refusing what it cannot read.</summary>
public sealed class BackplaneMessageTests
{
    [Test]
    public void A_message_round_trips([Values(null, "", "ns:ü")] string? @namespace)
    {
        var sender = Guid.NewGuid();
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_765_000_000_123);
        var message = new BackplaneMessage(sender, BackplaneAction.Expire, @namespace, ["a", "", new string('k', 300), "ключ"], at);

        Assert.That(BackplaneMessage.TryParse(message.ToBytes(), out var read), Is.True);
        Assert.That(read!.SenderId, Is.EqualTo(sender));
        Assert.That(read.Action, Is.EqualTo(BackplaneAction.Expire));
        Assert.That(read.Namespace, Is.EqualTo(@namespace));
        Assert.That(read.Keys, Is.EqualTo(message.Keys));
        Assert.That(read.Timestamp, Is.EqualTo(at));
    }

    [Test]
    public void A_one_key_message_is_compact()
    {
        var bytes = new BackplaneMessage(Guid.NewGuid(), BackplaneAction.Set, null, ["user:42"], DateTimeOffset.UtcNow).ToBytes();

        Assert.That(bytes, Has.Length.EqualTo(26 + 1 + 1 + 1 + 7));
        Assert.That(bytes[0], Is.EqualTo(BackplaneMessage.FormatVersion));
    }

    [Test]
    public void Damaged_or_foreign_bytes_are_refused()
    {
        var good = new BackplaneMessage(Guid.NewGuid(), BackplaneAction.Delete, "ns", ["a", "b"], DateTimeOffset.UtcNow).ToBytes();
        for (var length = 0; length < good.Length; length++)
        {
            Assert.That(BackplaneMessage.TryParse(good.AsSpan(0, length), out _), Is.False, $"cut at {length}");
        }

        Assert.That(BackplaneMessage.TryParse([.. good, 0], out _), Is.False, "trailing bytes");
        var unknownAction = (byte[])good.Clone();
        unknownAction[1] = 200;
        Assert.That(BackplaneMessage.TryParse(unknownAction, out _), Is.False);
        var hugeCount = new BackplaneMessage(Guid.NewGuid(), BackplaneAction.Set, null, [], DateTimeOffset.UtcNow).ToBytes();
        hugeCount[^1] = 0x7F;
        Assert.That(BackplaneMessage.TryParse(hugeCount, out _), Is.False);
        var badUtf8 = new BackplaneMessage(Guid.NewGuid(), BackplaneAction.Set, null, ["x"], DateTimeOffset.UtcNow).ToBytes();
        badUtf8[^1] = 0xFF;
        Assert.That(BackplaneMessage.TryParse(badUtf8, out _), Is.False);
    }

    [Test]
    public void Bad_arguments_are_refused()
    {
        Assert.That(Assert.Throws<ArgumentNullException>(() => new BackplaneMessage(Guid.Empty, BackplaneAction.Set, null, null!, default))!.ParamName, Is.EqualTo("keys"));
        Assert.That(Assert.Throws<ArgumentNullException>(() => new BackplaneMessage(Guid.Empty, BackplaneAction.Set, null, [null!], default))!.ParamName, Is.EqualTo("keys"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new BackplaneMessage(Guid.Empty, (BackplaneAction)0, null, [], default))!.ParamName, Is.EqualTo("action"));
    }
}
