package wire

import (
	"fmt"
	"os"
)

// WriteKeyPair makes a new key pair and writes PREFIX.sec (mode 0600) and
// PREFIX.pub in usign's formats. It never overwrites a file.
func WriteKeyPair(prefix string) (PublicKey, error) {
	k, err := GenerateKey()
	if err != nil {
		return PublicKey{}, err
	}
	write := func(path string, b []byte, mode os.FileMode) error {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if err != nil {
			return fmt.Errorf("keygen: %w", err)
		}
		_, err = f.Write(b)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return fmt.Errorf("keygen: %w", err)
		}
		return nil
	}
	if err := write(prefix+".sec", MarshalSecretKey(k), 0o600); err != nil {
		return PublicKey{}, err
	}
	if err := write(prefix+".pub", MarshalPublicKey(k.Public()), 0o644); err != nil {
		os.Remove(prefix + ".sec")
		return PublicKey{}, err
	}
	return k.Public(), nil
}

// ReadSecretKeyFile reads a usign secret key file.
func ReadSecretKeyFile(path string) (SecretKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return SecretKey{}, err
	}
	k, err := ParseSecretKey(b)
	if err != nil {
		return SecretKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}
