package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodekeeper/nodekeeper/wire"
)

// keygen, sign and push: the admin's side of remote management, up to the
// broker (the agent's end-to-end test pushes to a real one).
func TestKeygenSignPush(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := dispatch(args, strings.NewReader(""), &out, &errb)
		return out.String(), errb.String(), code
	}
	prefix := filepath.Join(dir, "admin")
	out, errs, code := run("keygen", "-o", prefix)
	if code != 0 || !strings.Contains(out, "uci add_list nodekeeper.remote.trusted_key='RW") {
		t.Fatalf("keygen: exit %d, %q %q", code, out, errs)
	}
	if fi, err := os.Stat(prefix + ".sec"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("secret key file: %v %v", fi, err)
	}
	if _, errs, code := run("keygen", "-o", prefix); code != 1 || !strings.Contains(errs, "exists") {
		t.Errorf("keygen over existing files: exit %d, %q", code, errs)
	}
	pubText, _ := os.ReadFile(prefix + ".pub")
	pub, err := wire.ParsePublicKey(pubText)
	if err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(dir, "n1.json")
	os.WriteFile(doc, []byte(`{"node":"n1","seq":4,"node_state":"safe"}`), 0o600)
	if _, errs, code := run("sign", "-k", prefix+".sec", doc); code != 0 {
		t.Fatalf("sign: exit %d: %s", code, errs)
	}
	env, _ := os.ReadFile(doc + ".env")
	if got, k, err := wire.Open([]wire.PublicKey{pub}, bytes.TrimSpace(env)); err != nil || k.ID() != pub.ID() || !bytes.Contains(got, []byte(`"seq":4`)) {
		t.Errorf("the envelope does not open with the public key: %v", err)
	}
	if _, errs, code := run("sign", "-k", prefix+".sec", "--usign", doc); code != 0 {
		t.Fatalf("sign --usign: exit %d: %s", code, errs)
	}
	sig, _ := os.ReadFile(doc + ".sig")
	body, _ := os.ReadFile(doc)
	if _, err := wire.Verify([]wire.PublicKey{pub}, body, sig); err != nil {
		t.Errorf("the usign signature does not verify: %v", err)
	}

	// A second admin adds a signature to the envelope, in place: two
	// distinct trusted keys, a threshold of 2 met.
	prefix2 := filepath.Join(dir, "admin2")
	if _, errs, code := run("keygen", "-o", prefix2); code != 0 {
		t.Fatalf("keygen: %s", errs)
	}
	pub2Text, _ := os.ReadFile(prefix2 + ".pub")
	pub2, _ := wire.ParsePublicKey(pub2Text)
	if _, errs, code := run("sign", "-k", prefix2+".sec", doc+".env"); code != 0 {
		t.Fatalf("sign an envelope: exit %d: %s", code, errs)
	}
	env, _ = os.ReadFile(doc + ".env")
	if _, signers, err := wire.OpenThreshold([]wire.PublicKey{pub, pub2}, 2, bytes.TrimSpace(env)); err != nil || len(signers) != 2 {
		t.Errorf("the envelope signed twice: %d signers, %v", len(signers), err)
	}
	if _, errs, code := run("sign", "-k", prefix2+".sec", doc+".env"); code != 1 || !strings.Contains(errs, "already signed by key "+pub2.ID()) {
		t.Errorf("signing an envelope twice with one key: exit %d, %q", code, errs)
	}

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"node":"n1","seq":1,"slivers":"all"}`), 0o600)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"sign without key", []string{"sign", doc}, 2, "usage: nodekeeper sign"},
		{"sign a bad document", []string{"sign", "-k", prefix + ".sec", bad}, 1, "bad.json: desired document"},
		{"sign with a public key", []string{"sign", "-k", prefix + ".pub", doc}, 1, "secret key"},
		{"push without broker", []string{"push", "n1", doc}, 2, "usage: nodekeeper push"},
		{"push unsigned", []string{"push", "--broker", "tcp://127.0.0.1:1", "n1", doc}, 1, "not a signed envelope"},
		{"push to another node", []string{"push", "--broker", "tcp://127.0.0.1:1", "n2", doc + ".env"}, 1, `node "n1", but this node is "n2"`},
		{"push key and sig", []string{"push", "--broker", "tcp://127.0.0.1:1", "-k", prefix + ".sec", "--sig", doc + ".sig", "n1", doc}, 2, "exclude"},
		{"push with a bad broker", []string{"push", "--broker", "udp://x", "-k", prefix + ".sec", "n1", doc}, 1, "scheme"},
		{"push, broker away", []string{"push", "--broker", "tcp://127.0.0.1:1", "--sig", doc + ".sig", "n1", doc}, 1, "connect"},
		{"push with two keys, broker away", []string{"push", "--broker", "tcp://127.0.0.1:1", "-k", prefix + ".sec", "-k", prefix2 + ".sec", "n1", doc}, 1, "connect"},
		{"push with a missing second key", []string{"push", "--broker", "tcp://127.0.0.1:1", "-k", prefix + ".sec", "-k", prefix2 + ".nope", "n1", doc}, 1, "admin2.nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs, code := run(tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, tt.code, tt.want)
			}
		})
	}
}

// `run` refuses an invalid config at once, naming what is wrong; `status`
// without an agent says so.
func TestRunAndStatusWithoutAgent(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "nodekeeper"), []byte("config agent 'agent'\n\toption node_state 'sleepy'\n"), 0o600)
	var out, errb bytes.Buffer
	if code := dispatch([]string{"run", "--config-dir", dir}, nil, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "config agent 'agent' option node_state") {
		t.Errorf("run: exit %d, %q", code, errb.String())
	}
	errb.Reset()
	sock := filepath.Join(dir, "none.sock")
	if code := dispatch([]string{"status", "--socket", sock}, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), "no agent is running") {
		t.Errorf("status: exit %d, %q", code, errb.String())
	}
	errb.Reset()
	if code := dispatch([]string{"policy", "list", "--socket", sock}, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), "no agent is running") {
		t.Errorf("policy list: exit %d, %q", code, errb.String())
	}
}

func TestWatchErrors(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"watch"}, 2, "usage: nodekeeper watch --broker URL"},
		{[]string{"watch", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"watch", "--broker", "udp://x"}, 1, "nodekeeper watch: mqtt:"},
		{[]string{"watch", "--broker", "tcp://127.0.0.1:1"}, 1, "mqtt connect to tcp://127.0.0.1:1"},
		{[]string{"watch", "--broker", "tcp://127.0.0.1:1", "--password-file", "/nonexistent"}, 1, "/nonexistent"},
	} {
		var out, errb bytes.Buffer
		if code := dispatch(tc.args, strings.NewReader(""), &out, &errb); code != tc.code || !strings.Contains(errb.String(), tc.stderr) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, errb.String(), tc.code, tc.stderr)
		}
	}
}
