package apkadb

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
)

// Key is a signing key apk-tools accepts: EC P-256 or RSA (apk 3.0.6
// refuses Ed25519 keys).
type Key struct {
	priv crypto.Signer
	id   [16]byte
}

// PublicKey is a key apk-tools verifies signatures with (/etc/apk/keys/).
type PublicKey struct {
	pub crypto.PublicKey
	id  [16]byte
}

// keyID is apk_pkey_init's id: the first 16 bytes of the SHA-512 of the
// public key as i2d_PublicKey encodes it (an EC point uncompressed, an RSA
// key as PKCS#1).
func keyID(pub crypto.PublicKey) ([16]byte, error) {
	var raw []byte
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return [16]byte{}, fmt.Errorf("EC key on %s: apk signs with P-256", k.Curve.Params().Name)
		}
		e, err := k.ECDH()
		if err != nil {
			return [16]byte{}, err
		}
		raw = e.Bytes()
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return [16]byte{}, fmt.Errorf("RSA key of %d bits: use 2048 or more", k.N.BitLen())
		}
		raw = x509.MarshalPKCS1PublicKey(k)
	default:
		return [16]byte{}, fmt.Errorf("%T keys are not accepted by apk-tools: use EC P-256 or RSA", pub)
	}
	sum := sha512.Sum512(raw)
	var id [16]byte
	copy(id[:], sum[:16])
	return id, nil
}

// ParseKey reads a PEM private key: PKCS#8 ("PRIVATE KEY", as `openssl
// genpkey` writes), SEC 1 ("EC PRIVATE KEY", `openssl ecparam -genkey`) or
// PKCS#1 ("RSA PRIVATE KEY").
func ParseKey(pemBytes []byte) (*Key, error) {
	blk, _ := pem.Decode(pemBytes)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	var k any
	var err error
	switch blk.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(blk.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", blk.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("PEM block %q: %w", blk.Type, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%T cannot sign", k)
	}
	id, err := keyID(s.Public())
	if err != nil {
		return nil, err
	}
	return &Key{priv: s, id: id}, nil
}

// ParsePublicKey reads a PEM "PUBLIC KEY" (SubjectPublicKeyInfo), as
// `openssl pkey -pubout` writes it.
func ParsePublicKey(pemBytes []byte) (*PublicKey, error) {
	blk, _ := pem.Decode(pemBytes)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, errors.New("no PEM PUBLIC KEY block")
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	id, err := keyID(pub)
	if err != nil {
		return nil, err
	}
	return &PublicKey{pub: pub, id: id}, nil
}

// Public is the public half of k.
func (k *Key) Public() *PublicKey { return &PublicKey{pub: k.priv.Public(), id: k.id} }

// PEM is the public key as a PEM "PUBLIC KEY" block, the form apk reads from
// /etc/apk/keys/.
func (p *PublicKey) PEM() ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(p.pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// signedDigest is what a v0 signature signs (adb_digest_v0_signature): the
// schema, the signature header and the SHA-512 of the ADB block, hashed
// again with SHA-512 by the signing operation.
func signedDigest(schema uint32, hdr []byte, adbBlock []byte) []byte {
	md := sha512.Sum512(adbBlock)
	h := sha512.New()
	h.Write(binary.LittleEndian.AppendUint32(nil, schema))
	h.Write(hdr)
	h.Write(md[:])
	return h.Sum(nil)
}

// sign returns the payload of a SIG block over adbBlock.
func (k *Key) sign(schema uint32, adbBlock []byte) ([]byte, error) {
	hdr := append([]byte{sigVersion, sigSHA512}, k.id[:]...)
	dig := signedDigest(schema, hdr, adbBlock)
	var sig []byte
	var err error
	switch p := k.priv.(type) {
	case *ecdsa.PrivateKey:
		sig, err = ecdsa.SignASN1(rand.Reader, p, dig)
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(nil, p, crypto.SHA512, dig)
	default:
		err = fmt.Errorf("%T keys are not supported", k.priv)
	}
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return append(hdr, sig...), nil
}

// Verify reports whether a SIG block of f is a valid signature of its ADB
// block by one of keys, as adb_trust_verify_signature checks it.
func (f *File) Verify(keys ...*PublicKey) error {
	if len(f.Sigs) == 0 {
		return errors.New("not signed")
	}
	for _, s := range f.Sigs {
		if len(s) < 18 || s[0] != sigVersion {
			continue
		}
		for _, k := range keys {
			if string(s[2:18]) != string(k.id[:]) || s[1] != sigSHA512 {
				continue
			}
			dig := signedDigest(f.Schema, s[:18], f.ADB)
			switch p := k.pub.(type) {
			case *ecdsa.PublicKey:
				if ecdsa.VerifyASN1(p, dig, s[18:]) {
					return nil
				}
			case *rsa.PublicKey:
				if rsa.VerifyPKCS1v15(p, crypto.SHA512, dig, s[18:]) == nil {
					return nil
				}
			}
		}
	}
	return errors.New("no signature by a trusted key verifies")
}
