package telemetry

import (
	"context"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cpuTime is the process's user+system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the CPU time per operation (all goroutines of the
// process: paho's too) next to Go's wall-clock ns/op.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N)/1e6, "cpu-ms/op")
}

func benchSampler(b *testing.B, groups map[string]bool) {
	s, err := NewSampler("bench", groups, Sources{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s.Sample(ctx, time.Now(), 0, nil) // the first sample finds thermal zones and mounts
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime(b)
	for i := 0; i < b.N; i++ {
		s.Sample(ctx, time.Now(), uint64(i), nil)
	}
	reportCPU(b, start)
}

// BenchmarkCollectSystemInterfaces is one collection of the system and
// interfaces groups (target: at most 0.2 ms of CPU).
func BenchmarkCollectSystemInterfaces(b *testing.B) {
	benchSampler(b, map[string]bool{"system": true, "interfaces": true, "wifi": false, "slivers": false, "agent": false})
}

// BenchmarkCollectAll is one collection of every default collector.
func BenchmarkCollectAll(b *testing.B) { benchSampler(b, nil) }

// BenchmarkEncodeJSON turns a full document into its MQTT messages.
func BenchmarkEncodeJSON(b *testing.B) {
	doc := sampleDoc()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		encodeJSON(doc.Node, doc.TS, doc.Seq, points(doc, allGroups))
	}
}

// benchPublisher runs a publisher against a real mosquitto, sampling on its
// own only once (interval of an hour).
func benchPublisher(b *testing.B) *Publisher {
	br := startBroker(b, "")
	c := testConfig(br.url(), "bench")
	c.Collectors = nil
	c.Interval = time.Hour
	c.DrainBurst = 1 << 20
	p, err := NewPublisher(c)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	waitFor(b, 30*time.Second, "the first sample to be acknowledged", func() bool {
		n, _, _ := p.spool.depth()
		return p.Latest() != nil && n == 0 && p.published.Load() > 0
	})
	select { // a signal from the first sample's drain
	case <-p.spool.empty:
	default:
	}
	return p
}

// waitDrained waits until an acknowledgement empties the spool.
func waitDrained(b *testing.B, p *Publisher) {
	for {
		if n, _, _ := p.spool.depth(); n == 0 {
			return
		}
		select {
		case <-p.spool.empty:
		case <-time.After(30 * time.Second):
			b.Fatal("the spool did not drain")
		}
	}
}

// BenchmarkCycleWithPublish is one full cycle: every default collector,
// encoding, and publishing each message at QoS 1 until mosquitto
// acknowledged it (target: at most 1 ms of CPU).
func BenchmarkCycleWithPublish(b *testing.B) {
	p := benchPublisher(b)
	groups := p.sampler.Groups()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime(b)
	msgs := p.published.Load()
	for i := 0; i < b.N; i++ {
		p.sample(ctx, time.Now(), groups)
		waitDrained(b, p)
	}
	reportCPU(b, start)
	b.ReportMetric(float64(p.published.Load()-msgs)/float64(b.N), "msgs/op")
}

// BenchmarkPublishOne is one QoS 1 message through the spool to mosquitto
// and back (PUBACK).
func BenchmarkPublishOne(b *testing.B) {
	p := benchPublisher(b)
	payload := []byte(`{"node":"bench","ts":1764097485.123,"seq":1,"load1":0.42}`)
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime(b)
	for i := 0; i < b.N; i++ {
		p.spool.push(message{Topic: "nodekeeper/bench/telemetry/x", Payload: payload, QoS: 1})
		waitDrained(b, p)
	}
	reportCPU(b, start)
}
