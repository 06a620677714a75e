package kvemulator

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
)

// backupMagic marks emulator backup blobs.
var backupMagic = []byte("KVEMU-SECRET-BACKUP-1\x00")

// sealBackup encrypts a backup with the emulator's key: like the service's
// blobs, it is opaque and can only be restored by the emulator that made it.
func (e *Emulator) sealBackup(plain []byte) ([]byte, error) {
	aead, err := e.backupAEAD()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := append(append([]byte{}, backupMagic...), nonce...)
	return aead.Seal(out, nonce, plain, backupMagic), nil
}

func (e *Emulator) openBackup(blob []byte) ([]byte, error) {
	aead, err := e.backupAEAD()
	if err != nil {
		return nil, err
	}
	if len(blob) < len(backupMagic)+aead.NonceSize() || string(blob[:len(backupMagic)]) != string(backupMagic) {
		return nil, errors.New("not an emulator backup")
	}
	blob = blob[len(backupMagic):]
	return aead.Open(nil, blob[:aead.NonceSize()], blob[aead.NonceSize():], backupMagic)
}

func (e *Emulator) backupAEAD() (cipher.AEAD, error) {
	block, err := aes.NewCipher(e.backupKey)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
