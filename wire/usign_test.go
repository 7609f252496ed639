package wire

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestSignVerify(t *testing.T) {
	k1, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := GenerateKey()
	msg := []byte(`{"node":"n1","seq":3}`)
	sig := Sign(k1, msg)

	tests := []struct {
		name    string
		trusted []PublicKey
		msg     []byte
		sig     []byte
		want    error
	}{
		{"good", []PublicKey{k2.Public(), k1.Public()}, msg, sig, nil},
		{"untrusted", []PublicKey{k2.Public()}, msg, sig, ErrUntrustedKey},
		{"tampered", []PublicKey{k1.Public()}, append(bytes.Clone(msg), ' '), sig, ErrBadSignature},
		{"signed by other", []PublicKey{k1.Public()}, msg, Sign(SecretKey{Fingerprint: k1.Fingerprint, Key: k2.Key}, msg), ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := Verify(tt.trusted, tt.msg, tt.sig)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify: %v, want %v", err, tt.want)
			}
			if err == nil && k.ID() != k1.Public().ID() {
				t.Errorf("verified by %s, want %s", k.ID(), k1.Public().ID())
			}
		})
	}
	if _, err := Verify([]PublicKey{k1.Public()}, msg, []byte("garbage!")); err == nil {
		t.Error("garbage signature verified")
	}
}

func TestKeyFilesRoundTrip(t *testing.T) {
	k, _ := GenerateKey()
	sk, err := ParseSecretKey(MarshalSecretKey(k))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sk.Key, k.Key) || sk.Fingerprint != k.Fingerprint {
		t.Error("secret key changed in a round trip")
	}
	pk, err := ParsePublicKey(MarshalPublicKey(k.Public()))
	if err != nil {
		t.Fatal(err)
	}
	if pk.String() != k.Public().String() {
		t.Error("public key changed in a round trip")
	}
	// UCI lists just the base64 line.
	if pk2, err := ParsePublicKey([]byte(k.Public().String())); err != nil || pk2.ID() != k.Public().ID() {
		t.Errorf("bare base64 key: %v", err)
	}
	for _, bad := range []string{"", "untrusted comment: x\n", "!!!", "RWQ="} {
		if _, err := ParsePublicKey([]byte(bad)); err == nil {
			t.Errorf("ParsePublicKey(%q) accepted", bad)
		}
		if _, err := ParseSecretKey([]byte(bad)); err == nil {
			t.Errorf("ParseSecretKey(%q) accepted", bad)
		}
	}
}

// signify (OpenBSD's, whose formats usign copies) is a real peer: it must
// verify our signatures, and we must verify its.
func TestSignifyInterop(t *testing.T) {
	signify, err := exec.LookPath("signify-openbsd")
	requireEnv(t, err == nil, "signify-openbsd (scripts/deps.sh installs it)")
	dir := t.TempDir()
	k, _ := GenerateKey()
	msg := []byte("{\"node\":\"n1\",\"seq\":1}\n")
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	m := write("doc.json", msg)
	pub := write("k.pub", MarshalPublicKey(k.Public()))
	sig := write("doc.json.sig", Sign(k, msg))
	if out, err := exec.Command(signify, "-V", "-p", pub, "-x", sig, "-m", m).CombinedOutput(); err != nil {
		t.Fatalf("signify rejects our signature: %v: %s", err, out)
	}

	// And the other way round: a key made and a document signed by signify.
	spub, ssec := filepath.Join(dir, "s.pub"), filepath.Join(dir, "s.sec")
	if out, err := exec.Command(signify, "-G", "-n", "-p", spub, "-s", ssec).CombinedOutput(); err != nil {
		t.Fatalf("signify -G: %v: %s", err, out)
	}
	ssig := filepath.Join(dir, "s.sig")
	if out, err := exec.Command(signify, "-S", "-s", ssec, "-x", ssig, "-m", m).CombinedOutput(); err != nil {
		t.Fatalf("signify -S: %v: %s", err, out)
	}
	pubText, _ := os.ReadFile(spub)
	sigText, _ := os.ReadFile(ssig)
	secText, _ := os.ReadFile(ssec)
	pk, err := ParsePublicKey(pubText)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify([]PublicKey{pk}, msg, sigText); err != nil {
		t.Fatalf("signify's signature: %v", err)
	}
	sk, err := ParseSecretKey(secText)
	if err != nil {
		t.Fatalf("signify's secret key: %v", err)
	}
	if sk.Public().String() != pk.String() {
		t.Error("public key from signify's secret key differs from its .pub")
	}
}

func TestOpenEnvelope(t *testing.T) {
	k, _ := GenerateKey()
	other, _ := GenerateKey()
	trusted := []PublicKey{k.Public()}
	doc := []byte(`{"node":"n1","seq":7}`)
	good, err := Seal(k, doc)
	if err != nil {
		t.Fatal(err)
	}
	byOther, _ := Seal(other, doc)
	tests := []struct {
		name    string
		wire    []byte
		wantErr string
	}{
		{"good", good, ""},
		{"unsigned", []byte(`{"document":"eyJub2RlIjoibjEiLCJzZXEiOjd9"}`), "unsigned"},
		{"untrusted signer", byOther, "not trusted"},
		{"not json", []byte("hello"), "desired envelope"},
		{"unknown field", []byte(`{"document":"e30=","signature":"x","extra":1}`), "unknown field"},
		{"oversized", append(bytes.Repeat([]byte(" "), MaxEnvelopeBytes), good...), "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, key, err := Open(trusted, tt.wire)
			if tt.wantErr == "" {
				if err != nil || !bytes.Equal(got, doc) || key.ID() != k.Public().ID() {
					t.Fatalf("Open = %q, %s, %v", got, key.ID(), err)
				}
				return
			}
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tt.wantErr)) {
				t.Fatalf("Open err = %v, want it to say %q", err, tt.wantErr)
			}
		})
	}
}
