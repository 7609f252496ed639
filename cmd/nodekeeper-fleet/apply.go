package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"os/user"
	"syscall"
	"time"

	"github.com/nodekeeper/nodekeeper/fleet/aggregate"
	"github.com/nodekeeper/nodekeeper/fleet/inventory"
	"github.com/nodekeeper/nodekeeper/fleet/plan"
	"github.com/nodekeeper/nodekeeper/fleet/rollout"
	"github.com/nodekeeper/nodekeeper/wire"
)

func init() {
	register(command{name: "apply", summary: "sign and push a fleet directory in waves (canary, doubling, soak, rollback)", run: runApply})
}

const applyUsage = `usage: nodekeeper-fleet apply DIR -k ADMIN.sec [-k ...] --broker URL [flags]
Pushes every node whose document changes, in waves: a canary, then waves
growing each time; a wave must apply with no errors and stay online for the
soak before the next starts; a wave with more than --max-failed of its
nodes failed stops the rollout and gets its previous documents back.
The rollout's record (retained, signed, <prefix>/_fleet/rollout) is the
lock: a second apply refuses while one runs (--resume, --take-over).
The aggregation policies' memory (hold, cooldown) is kept the same way on
<prefix>/_fleet/aggregate, signed with the first -k.`

func runApply(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	var bf brokerFlags
	bf.register(fs)
	var keyFiles listFlag
	fs.Var(&keyFiles, "k", "an admin's usign secret key: the first signs the rollout record, all sign the documents (repeatable: nodes with remote.threshold N need N)")
	canary := fs.Int("canary", 1, "nodes in the first wave")
	growth := fs.Float64("growth", 2, "each wave is this many times the last")
	soak := fs.Duration("soak", 60*time.Second, "how long a wave must stay online and applied (0: none)")
	maxFailed := fs.Float64("max-failed", 10, "stop when more than this percentage of a wave failed")
	waveTimeout := fs.Duration("wave-timeout", 5*time.Minute, "how long to wait for a wave's state reports")
	takeOver := fs.Bool("take-over", false, "start anew over a running rollout (another admin's, or one interrupted)")
	resume := fs.Bool("resume", false, "continue the running rollout of the same plan")
	mode := policyMode("dry-run")
	fs.Var(&mode, "policies", "aggregation policies (DIR/aggregate/*.lua): off, dry-run (show their decisions) or on (roll their changes out)")
	listen := fs.Duration("documents", 0, "listen this long for the nodes' telemetry documents (what aggregation policies see)")
	pos, st, done := parseFlags(fs, applyUsage, args, stderr)
	if done {
		return st
	}
	if len(pos) != 1 || bf.url == "" || len(keyFiles) == 0 {
		fmt.Fprintln(stderr, applyUsage)
		return 2
	}
	if *canary < 1 || *growth < 1 || *maxFailed < 0 || *maxFailed >= 100 || *soak < 0 {
		fmt.Fprintln(stderr, "nodekeeper-fleet apply: --canary >= 1, --growth >= 1, 0 <= --max-failed < 100, --soak >= 0")
		return 2
	}
	f, err := loadDir(pos[0], stderr)
	if err != nil {
		return 1
	}
	keys, err := readKeys(keyFiles)
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet apply: %v\n", err)
		return 1
	}
	key := keys[0]
	trusted, err := bf.trusted()
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet apply: %v\n", err)
		return 1
	}
	enrolled, err := bf.enrolment()
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet apply: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	c, err := bf.dial(dctx)
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "nodekeeper-fleet apply: %v\n", err)
		return 1
	}
	defer c.Close()
	var po plan.Options
	var decisions []string
	if mode != "off" {
		pctx, cancel := context.WithTimeout(ctx, bf.timeout+*listen)
		docs, err := listenDocuments(pctx, c, *listen)
		var inv *inventory.Inventory
		var refusals map[string]map[string]string
		if err == nil {
			var pinned map[string]wire.PublicKey
			var rec *rollout.Record
			var recErr error
			if pinned, rec, recErr, err = bf.pins(pctx, c, append(trusted, key.Public())); err == nil {
				inv, err = inventory.Read(pctx, c, verifier(append(trusted, key.Public()), pinned), bf.quiet)
				if rec != nil && recErr == nil {
					refusals = rec.Refusals
				}
			}
		}
		var mem *aggregate.Memory
		if err == nil {
			mem, err = readMemory(pctx, c, append(trusted, key.Public()), bf.quiet, stdout)
		}
		var changed bool
		if err == nil {
			po, decisions, changed, err = aggregation(pos[0], mode, f, inv, docs.get(), refusals, mem, stdout)
		}
		// The evaluation is remembered (hold, cooldown) for the next one,
		// whichever admin runs it.
		if err == nil && changed {
			err = aggregate.SaveMemory(pctx, c, mem, key, who(), time.Now())
		}
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "nodekeeper-fleet apply: aggregation policies: %v\n", err)
			return 1
		}
		if mode != "on" {
			po, decisions = plan.Options{}, nil
		}
	}
	o := rollout.Options{Key: key, CoSigners: keys[1:], Plan: po, Decisions: decisions, Trusted: trusted, Who: who(), Canary: *canary, Growth: *growth, Soak: *soak,
		MaxFailed: *maxFailed / 100, WaveTimeout: *waveTimeout, Quiet: bf.quiet, TakeOver: *takeOver, Resume: *resume,
		Verifier: verifier(append(trusted, key.Public()), enrolled), Out: stdout, Terminal: isTerminal(stdout)}
	if *soak == 0 {
		o.Soak = -1
	}
	if *maxFailed == 0 {
		o.MaxFailed = 1e-9
	}
	rec, err := rollout.Apply(ctx, c, f, o)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "nodekeeper-fleet apply: interrupted; the record stays running: apply --resume continues it\n")
	case rec != nil && errors.Is(err, rollout.ErrWaveFailed):
		fmt.Fprintf(stderr, "nodekeeper-fleet apply: %v (%s)\n", err, rec.Note)
	default:
		fmt.Fprintf(stderr, "nodekeeper-fleet apply: %v\n", err)
	}
	return 1
}

// who names the admin in the rollout record: user@host.
func who() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

// isTerminal reports whether w is a terminal (a progress line is drawn
// there; plain lines elsewhere).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// readKeys reads usign secret key files; two files with one key are an
// error (a threshold counts distinct keys).
func readKeys(files []string) ([]wire.SecretKey, error) {
	var keys []wire.SecretKey
	seen := map[string]string{}
	for _, f := range files {
		k, err := wire.ReadSecretKeyFile(f)
		if err != nil {
			return nil, err
		}
		if other, dup := seen[k.Public().ID()]; dup {
			return nil, fmt.Errorf("%s and %s hold the same key %s", other, f, k.Public().ID())
		}
		seen[k.Public().ID()] = f
		keys = append(keys, k)
	}
	return keys, nil
}
