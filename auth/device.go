package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// DeviceTokenLifetime is how long a device token is honoured after it was
// issued. Package httpauth gives its cookie the same Max-Age.
const DeviceTokenLifetime = 180 * 24 * time.Hour

// A device token is what OWASP calls a device cookie: proof that the
// client presenting it has logged in to one account before. It is
// unpadded base64url of
//
//	expiry (8 bytes, big-endian Unix seconds) | nonce (16 random bytes) | MAC (32 bytes)
//
// where MAC is HMAC-SHA-256, keyed with a key derived from Config.Secret,
// of the normalised email, a zero byte, expiry and nonce. No store keeps
// it; the nonce names the device in its attempt counter.
const (
	deviceNonceLen = 16
	deviceRawLen   = 8 + deviceNonceLen + sha256.Size
	deviceTokenLen = (deviceRawLen*8 + 5) / 6 // unpadded base64url
)

var deviceEncoding = base64.RawURLEncoding.Strict()

type deviceTokenKey struct{}

// WithDeviceToken returns a context that carries a device token the client
// presented, which [Service.Login] (and [Service.ChangePassword]) honour
// if it is valid for the account named: the attempt is then throttled
// under that device's own counter only (see Config.LoginThrottle).
// An invalid, expired or foreign token is ignored, as if none were given.
// Device tokens come from [Grant.DeviceToken]; package httpauth keeps
// them in a cookie.
func WithDeviceToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, deviceTokenKey{}, token)
}

// newDeviceKey derives the HMAC key of device tokens from the secret.
func newDeviceKey(secret []byte) []byte {
	return deriveKey(secret, "gatehouse device tokens v1")
}

// deviceMAC returns the MAC of a device token for email over its expiry
// and nonce (head).
func (s *Service) deviceMAC(email string, head []byte) []byte {
	m := hmac.New(sha256.New, s.deviceKey)
	m.Write([]byte(email))
	m.Write([]byte{0})
	m.Write(head)
	return m.Sum(nil)
}

// newDeviceToken issues a device token for the normalised email, valid
// for DeviceTokenLifetime.
func (s *Service) newDeviceToken(email string) (string, error) {
	raw := make([]byte, 8, deviceRawLen)
	binary.BigEndian.PutUint64(raw, uint64(s.now().Add(DeviceTokenLifetime).Unix()))
	raw = raw[:8+deviceNonceLen]
	if err := s.random(raw[8:]); err != nil {
		return "", err
	}
	raw = append(raw, s.deviceMAC(email, raw)...)
	return deviceEncoding.EncodeToString(raw), nil
}

// deviceID returns the hex nonce of token if token is a device token for
// the normalised email that has not expired at now.
func (s *Service) deviceID(email, token string, now time.Time) (string, bool) {
	if len(token) != deviceTokenLen {
		return "", false
	}
	raw, err := deviceEncoding.DecodeString(token)
	if err != nil || len(raw) != deviceRawLen {
		return "", false
	}
	head := raw[:8+deviceNonceLen]
	if !hmac.Equal(raw[len(head):], s.deviceMAC(email, head)) {
		return "", false
	}
	if exp := binary.BigEndian.Uint64(head); exp > 1<<62 || !now.Before(time.Unix(int64(exp), 0)) {
		return "", false
	}
	return hex.EncodeToString(head[8:]), true
}

// ValidDeviceToken reports whether token is a device token of the account
// key of email (normalised here, as Login does) that has not expired: one
// that [Service.Login] would honour. A front end can use it to exempt such
// a client from limits of its own, as httpauth does with its per-IP limit.
func (s *Service) ValidDeviceToken(email, token string) bool {
	email, err := NormalizeEmail(email)
	if err != nil {
		return false
	}
	_, ok := s.deviceID(email, token, s.now())
	return ok
}

// withDeviceToken adds a device token for its account to a new session,
// as Signup and Login return it.
func (s *Service) withDeviceToken(sess *Grant, err error) (*Grant, error) {
	if err != nil {
		return nil, err
	}
	if sess.DeviceToken, err = s.newDeviceToken(sess.User.Email); err != nil {
		return nil, err
	}
	return sess, nil
}
