package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

// Threshold signing: a document needs signatures of N distinct trusted
// keys; the single "signature" stays accepted; AddSignature adds one.
func TestOpenThreshold(t *testing.T) {
	k1, _ := GenerateKey()
	k2, _ := GenerateKey()
	k3, _ := GenerateKey()
	stranger, _ := GenerateKey()
	trusted := []PublicKey{k1.Public(), k2.Public(), k3.Public()}
	doc := []byte(`{"node":"n1","seq":7}`)
	one, _ := Seal(k1, doc)
	two, _ := SealAll([]SecretKey{k1, k2}, doc)
	added, err := AddSignature(k2, one)
	if err != nil {
		t.Fatal(err)
	}
	three, err := AddSignature(k3, added)
	if err != nil {
		t.Fatal(err)
	}
	twiceSame, _ := json.Marshal(Envelope{Document: doc, Signature: string(Sign(k1, doc)), Signatures: []string{string(Sign(k1, doc))}})
	withStranger, _ := AddSignature(stranger, one)
	tampered, _ := json.Marshal(Envelope{Document: doc, Signatures: []string{string(Sign(k1, doc)), string(Sign(k2, []byte(`{"node":"n1","seq":8}`)))}})
	tests := []struct {
		name      string
		env       []byte
		threshold int
		signers   int
		wantErr   string
	}{
		{"one signature, threshold 1", one, 1, 1, ""},
		{"one signature, threshold 2", one, 2, 0, "signed by 1 distinct trusted keys (" + k1.Public().ID() + "), the threshold is 2"},
		{"two signatures", two, 2, 2, ""},
		{"single signature plus an added one", added, 2, 2, ""},
		{"three", three, 3, 3, ""},
		{"the same key twice counts once", twiceSame, 2, 0, "signed by 1 distinct trusted keys"},
		{"a stranger's signature does not count", withStranger, 2, 0, "not trusted"},
		{"a stranger's signature is ignored when the threshold is met", withStranger, 1, 1, ""},
		{"a bad signature of a trusted key refuses", tampered, 1, 0, "signature does not verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, signers, err := OpenThreshold(trusted, tt.threshold, tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want it to say %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != string(doc) || len(signers) != tt.signers {
				t.Fatalf("OpenThreshold = %q, %d signers, %v; want the document, %d signers", got, len(signers), err, tt.signers)
			}
		})
	}
	if _, err := AddSignature(k1, one); err == nil || !strings.Contains(err.Error(), "already signed by key") {
		t.Errorf("a second signature by the same key: %v", err)
	}
}

func TestParseEnrolment(t *testing.T) {
	k, _ := GenerateKey()
	good := "# fleet\nn1 " + k.Public().String() + "  # the first\n\nn-2 " + k.Public().String() + "\n"
	m, err := ParseEnrolment([]byte(good))
	if err != nil || len(m) != 2 || m["n1"].ID() != k.Public().ID() {
		t.Fatalf("ParseEnrolment = %v, %v", m, err)
	}
	for _, bad := range []string{"n1", "n1 notakey", "n/1 " + k.Public().String(), "n1 " + k.Public().String() + "\nn1 " + k.Public().String(), "n1 a b"} {
		if _, err := ParseEnrolment([]byte(bad)); err == nil {
			t.Errorf("ParseEnrolment(%q) accepted", bad)
		}
	}
}

// A state report signed by its node verifies with the pinned key only,
// and only as it was signed.
func TestVerifyState(t *testing.T) {
	node, _ := GenerateKey()
	other, _ := GenerateKey()
	report := func(k SecretKey) []byte {
		b, _ := json.Marshal(StateReport{Node: "n1", NodeKey: k.Public().String(), TS: 5, AppliedSeq: 3, SeenSeq: 3})
		return b
	}
	good, err := SignState(node, report(node))
	if err != nil {
		t.Fatal(err)
	}
	var forged SignedState
	json.Unmarshal(good, &forged)
	forged.Report = []byte(strings.Replace(string(forged.Report), `"seen_seq":3`, `"seen_seq":9`, 1))
	forgedMsg, _ := json.Marshal(forged)
	byOther, _ := SignState(other, report(other))
	// other signs a report that claims node's key.
	claim, _ := SignState(other, report(node))
	tests := []struct {
		name, msg, want string
	}{
		{"good", string(good), ""},
		{"unsigned", string(report(node)), "not a signed state report"},
		{"changed after signing", string(forgedMsg), "signature does not verify"},
		{"another key", string(byOther), "other than the node's pinned key"},
		{"a report claiming another key", string(claim), "its node_key is not the key that signed it"},
		{"not json", "offline", "not a signed state report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := VerifyState(node.Public(), []byte(tt.msg))
			if tt.want == "" {
				if err != nil || r.SeenSeq != 3 || r.Node != "n1" {
					t.Fatalf("VerifyState = %+v, %v", r, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want it to say %q", err, tt.want)
			}
		})
	}
}

func TestDesiredExpires(t *testing.T) {
	d, err := ParseDesired([]byte(`{"node":"n1","seq":1,"ts":"2026-12-01T00:00:00Z","expires":"2026-12-08T00:00:00Z"}`), "n1")
	if err != nil || d.Expires == nil || d.Expires.Day() != 8 || d.TS.Day() != 1 {
		t.Fatalf("ParseDesired = %+v, %v", d, err)
	}
	for doc, want := range map[string]string{
		`{"node":"n1","seq":1,"ts":"2026-12-08T00:00:00Z","expires":"2026-12-01T00:00:00Z"}`: "is not after ts",
		`{"node":"n1","seq":1,"expires":"next week"}`:                                        "desired document",
	} {
		if _, err := ParseDesired([]byte(doc), "n1"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDesired(%s): %v, want %q", doc, err, want)
		}
	}
}
