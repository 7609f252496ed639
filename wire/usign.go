package wire

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Keys and signatures use the formats of OpenWrt's usign (the tool that signs
// opkg feeds), so an admin can sign a desired document with `usign -S` on any
// OpenWrt machine and check one of ours with `usign -V`, and a key listed
// in UCI is the second line of a usign .pub file.
//
//	public key: "Ed" fingerprint[8] pubkey[32]
//	secret key: "Ed" "BK" kdfrounds[4]=0 salt[16] checksum[8] fingerprint[8] seed[32] pubkey[32]
//	signature:  "Ed" fingerprint[8] sig[64]
const (
	usignPubLen = 2 + 8 + ed25519.PublicKeySize
	usignSecLen = 2 + 2 + 4 + 16 + 8 + 8 + ed25519.PrivateKeySize
	usignSigLen = 2 + 8 + ed25519.SignatureSize
)

// PublicKey is a trusted signer's key.
type PublicKey struct {
	Fingerprint [8]byte
	Key         ed25519.PublicKey
}

// ID is the key's fingerprint in hex, as usign prints it.
func (k PublicKey) ID() string { return fmt.Sprintf("%x", binary.BigEndian.Uint64(k.Fingerprint[:])) }

// String returns the key in usign's base64 form, as UCI lists it.
func (k PublicKey) String() string {
	b := make([]byte, 0, usignPubLen)
	b = append(b, 'E', 'd')
	b = append(b, k.Fingerprint[:]...)
	b = append(b, k.Key...)
	return base64.StdEncoding.EncodeToString(b)
}

// SecretKey signs desired documents.
type SecretKey struct {
	Fingerprint [8]byte
	Key         ed25519.PrivateKey
}

// Public returns the public half of k.
func (k SecretKey) Public() PublicKey {
	return PublicKey{Fingerprint: k.Fingerprint, Key: k.Key.Public().(ed25519.PublicKey)}
}

// GenerateKey makes a new key pair with a random fingerprint, as `usign -G` does.
func GenerateKey() (SecretKey, error) {
	var k SecretKey
	if _, err := rand.Read(k.Fingerprint[:]); err != nil {
		return k, fmt.Errorf("generate key: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return k, fmt.Errorf("generate key: %w", err)
	}
	k.Key = priv
	return k, nil
}

// MarshalSecretKey returns the usign secret key file for k.
func MarshalSecretKey(k SecretKey) []byte {
	b := make([]byte, usignSecLen)
	copy(b, "EdBK")
	// kdfrounds (4 bytes) stay 0: no passphrase, as usign requires for signing.
	if _, err := rand.Read(b[8:24]); err != nil { // salt: unused without a KDF
		copy(b[8:24], k.Fingerprint[:])
	}
	sum := sha512.Sum512(k.Key)
	copy(b[24:32], sum[:8])
	copy(b[32:40], k.Fingerprint[:])
	copy(b[40:], k.Key)
	return usignFile("nodekeeper secret key "+k.Public().ID(), b)
}

// MarshalPublicKey returns the usign public key file for k.
func MarshalPublicKey(k PublicKey) []byte {
	return []byte("untrusted comment: nodekeeper public key " + k.ID() + "\n" + k.String() + "\n")
}

func usignFile(comment string, raw []byte) []byte {
	return []byte("untrusted comment: " + comment + "\n" + base64.StdEncoding.EncodeToString(raw) + "\n")
}

// usignPayload returns the base64 payload of a usign file: the line after
// "untrusted comment:", or the text itself when it is a bare base64 line.
func usignPayload(text []byte) ([]byte, error) {
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "untrusted comment:") {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(line)
		if err != nil {
			return nil, fmt.Errorf("not base64: %w", err)
		}
		return raw, nil
	}
	return nil, errors.New("no key or signature line")
}

// ParseSecretKey reads a usign secret key file.
func ParseSecretKey(text []byte) (SecretKey, error) {
	var k SecretKey
	raw, err := usignPayload(text)
	if err != nil {
		return k, fmt.Errorf("secret key: %w", err)
	}
	if len(raw) != usignSecLen || string(raw[:4]) != "EdBK" {
		return k, errors.New("secret key: not a usign ed25519 secret key")
	}
	if binary.BigEndian.Uint32(raw[4:8]) != 0 {
		return k, errors.New("secret key: password-protected keys are not supported")
	}
	copy(k.Fingerprint[:], raw[32:40])
	seed := raw[40 : 40+ed25519.SeedSize]
	k.Key = ed25519.NewKeyFromSeed(seed)
	if !bytes.Equal(k.Key, raw[40:]) {
		return k, errors.New("secret key: public half does not match the seed (corrupt file)")
	}
	return k, nil
}

// ParsePublicKey reads a usign public key: a whole .pub file or just its
// base64 line (as listed in UCI).
func ParsePublicKey(text []byte) (PublicKey, error) {
	var k PublicKey
	raw, err := usignPayload(text)
	if err != nil {
		return k, fmt.Errorf("public key: %w", err)
	}
	if len(raw) != usignPubLen || string(raw[:2]) != "Ed" {
		return k, fmt.Errorf("public key: not a usign ed25519 public key (%d bytes)", len(raw))
	}
	copy(k.Fingerprint[:], raw[2:10])
	k.Key = ed25519.PublicKey(bytes.Clone(raw[10:]))
	return k, nil
}

// Sign returns the usign signature file of msg made with k.
func Sign(k SecretKey, msg []byte) []byte {
	b := make([]byte, 0, usignSigLen)
	b = append(b, 'E', 'd')
	b = append(b, k.Fingerprint[:]...)
	b = append(b, ed25519.Sign(k.Key, msg)...)
	return usignFile("signed by key "+k.Public().ID(), b)
}

// Errors of signature checks; callers report them, never apply.
var (
	ErrUntrustedKey = errors.New("signed by a key that is not trusted")
	ErrBadSignature = errors.New("signature does not verify")
)

// Verify checks a usign signature of msg against the trusted keys and
// returns the key that made it.
func Verify(trusted []PublicKey, msg, sig []byte) (PublicKey, error) {
	raw, err := usignPayload(sig)
	if err != nil {
		return PublicKey{}, fmt.Errorf("signature: %w", err)
	}
	if len(raw) != usignSigLen || string(raw[:2]) != "Ed" {
		return PublicKey{}, errors.New("signature: not a usign ed25519 signature")
	}
	var fp [8]byte
	copy(fp[:], raw[2:10])
	for _, k := range trusted {
		if k.Fingerprint != fp {
			continue
		}
		if ed25519.Verify(k.Key, msg, raw[10:]) {
			return k, nil
		}
		return PublicKey{}, fmt.Errorf("key %s: %w", k.ID(), ErrBadSignature)
	}
	return PublicKey{}, fmt.Errorf("key %x: %w", binary.BigEndian.Uint64(fp[:]), ErrUntrustedKey)
}

// signatureKeyID returns the fingerprint (key id) a usign signature names.
func signatureKeyID(sig string) (string, error) {
	raw, err := usignPayload([]byte(sig))
	if err != nil {
		return "", err
	}
	if len(raw) != usignSigLen || string(raw[:2]) != "Ed" {
		return "", errors.New("signature: not a usign ed25519 signature")
	}
	return fmt.Sprintf("%x", binary.BigEndian.Uint64(raw[2:10])), nil
}
