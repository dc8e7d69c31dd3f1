package auth

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters: those of RFC 6238's example and of every authenticator
// app, which most of them take whatever the URI says.
const (
	totpPeriod     = 30 // seconds per time step
	totpSecretSize = 20 // bytes: 160 bits, as RFC 4226 recommends
	totpSkew       = 1  // steps accepted either side of the current one
	totpQRSize     = 256
)

// The lifetime of an mfaToken and the purpose under which the
// AccountStore keeps it as a one-time token.
const (
	mfaTokenTTL     = 5 * time.Minute
	purposeMFALogin = "mfa_login"
)

// Recovery codes: 10 of 120 random bits each, written as 24 base32
// characters in groups of 4. With at least 112 bits, an HMAC is as good
// a way to store them as a password hash (ASVS 5.0 6.5.2), and checking
// one costs no hashing time.
const (
	recoveryCodeCount = 10
	recoveryCodeBytes = 15
	recoveryCodeChars = 24
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// TOTPSetup is what [Service.SetupTOTP] returns for the user to load
// into an authenticator app: the same secret three ways. It is shown
// once; the Service keeps the secret sealed.
type TOTPSetup struct {
	// Secret is the shared secret, 160 bits in base32 without padding
	// (32 characters), for typing in.
	Secret string
	// URI is the otpauth://totp/ URI of the secret (SHA1, 6 digits, 30
	// seconds), labelled with Config.TOTPIssuer and the account's email.
	URI string
	// QRCode is a PNG image, 256 × 256 pixels, of a QR code of URI.
	QRCode []byte
}

var errNoMFA = fmt.Errorf("auth: the store has no two-factor authentication (auth.MFAStore and auth.AccountStore): %w", errors.ErrUnsupported)

// mfaPolicy is the two-factor part of a Service.
type mfaPolicy struct {
	store       MFAStore    // nil unless the store implements MFAStore and AccountStore
	seal        cipher.AEAD // AES-256-GCM: seals TOTP secrets
	recoveryKey []byte      // keys the HMACs of recovery codes
	tokenKey    []byte      // keys the MACs of mfaTokens
	issuer      string      // Config.TOTPIssuer, default filled in
}

// newMFAPolicy derives the keys of two-factor authentication from cfg's
// secret and checks Config.TOTPIssuer.
func newMFAPolicy(store UserStore, cfg Config) (mfaPolicy, error) {
	block, err := aes.NewCipher(deriveKey(cfg.Secret, "gatehouse totp secrets v1"))
	if err != nil {
		return mfaPolicy{}, err
	}
	seal, err := cipher.NewGCM(block)
	if err != nil {
		return mfaPolicy{}, err
	}
	p := mfaPolicy{
		seal:        seal,
		recoveryKey: deriveKey(cfg.Secret, "gatehouse recovery codes v1"),
		tokenKey:    deriveKey(cfg.Secret, "gatehouse mfa tokens v1"),
		issuer:      cfg.TOTPIssuer,
	}
	switch {
	case p.issuer == "":
		p.issuer = defaultTOTPIssuer(cfg.Issuer)
	case !validTOTPIssuer(p.issuer):
		return mfaPolicy{}, fmt.Errorf("TOTPIssuer %q is over 100 bytes or holds a colon or a control character", p.issuer)
	}
	if ms, ok := store.(MFAStore); ok {
		if _, ok := store.(AccountStore); ok {
			p.store = ms
		}
	}
	return p, nil
}

// validTOTPIssuer reports whether name can be the issuer of otpauth
// URIs: at most 100 bytes, no colon (the URI's label separator) and no
// control character.
func validTOTPIssuer(name string) bool {
	return name != "" && len(name) <= 100 && !strings.ContainsAny(name, ":\x00\r\n\t")
}

// defaultTOTPIssuer returns the issuer name of otpauth URIs for a token
// issuer: the host of a URL, else the issuer itself, the first of them
// that validTOTPIssuer accepts, else "Gatehouse".
func defaultTOTPIssuer(iss string) string {
	if u, err := url.Parse(iss); err == nil && validTOTPIssuer(u.Hostname()) {
		return u.Hostname()
	}
	if validTOTPIssuer(iss) {
		return iss
	}
	return "Gatehouse"
}

// sealTOTP seals a TOTP secret of the user with ID userID: a version
// byte, a random 12-byte nonce, and the AES-256-GCM ciphertext and tag,
// with the user ID as additional data, so that a sealed secret copied to
// another account does not open.
func (s *Service) sealTOTP(userID string, secret []byte) ([]byte, error) {
	out := make([]byte, 1+s.mfa.seal.NonceSize(), 1+s.mfa.seal.NonceSize()+len(secret)+s.mfa.seal.Overhead())
	out[0] = 1
	if err := s.random(out[1:]); err != nil {
		return nil, err
	}
	return s.mfa.seal.Seal(out, out[1:], secret, []byte(userID)), nil
}

// openTOTP opens a secret sealed by sealTOTP for the user with ID userID.
func (s *Service) openTOTP(userID string, sealed []byte) ([]byte, error) {
	n := 1 + s.mfa.seal.NonceSize()
	if len(sealed) < n+s.mfa.seal.Overhead() || sealed[0] != 1 {
		return nil, errors.New("auth: sealed TOTP secret of an unknown format")
	}
	secret, err := s.mfa.seal.Open(nil, sealed[1:n], sealed[n:], []byte(userID))
	if err != nil {
		// Config.Secret changed, or the row was tampered with.
		return nil, errors.New("auth: the TOTP secret does not open with this Config.Secret")
	}
	return secret, nil
}

// matchCode finds the time step, within totpSkew steps of now, whose
// code of secret is code, comparing in constant time, and that is later
// than last (the last step used). It returns the step, or a reason for
// the audit record: "malformed code", "replayed code" (a step not later
// than last matched) or "wrong code".
func matchCode(secret []byte, code string, last int64, now time.Time) (int64, string) {
	code = strings.ReplaceAll(code, " ", "")
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return 0, "malformed code"
	}
	key := b32.EncodeToString(secret)
	opts := hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	cur := now.Unix() / totpPeriod
	if now.Unix() < 0 && now.Unix()%totpPeriod != 0 {
		cur-- // floor, not truncation, before 1970
	}
	replayed := false
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		if step < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(key, uint64(step), opts)
		if err != nil || subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
			continue
		}
		if step <= last {
			replayed = true
			continue
		}
		return step, ""
	}
	if replayed {
		return 0, "replayed code"
	}
	return 0, "wrong code"
}

// SetupTOTP starts TOTP two-factor authentication for the user with ID
// userID, given their password, and returns the new secret. Two-factor
// authentication is not on until [Service.ConfirmTOTP] gets a first code
// of it; a later SetupTOTP replaces a setup not yet confirmed.
//
// A wrong password is [ErrInvalidCredentials], counted and throttled as
// a failed login of the account (a [*throttle.ThrottledError]), and an
// empty or over-long one a [*FieldError] for "password"; an account
// whose two-factor authentication is on already is [ErrMFAEnabled]
// (after the password). The store must implement [MFAStore] and
// [AccountStore]; otherwise SetupTOTP returns an error wrapping
// errors.ErrUnsupported.
func (s *Service) SetupTOTP(ctx context.Context, userID, password string) (TOTPSetup, error) {
	if s.mfa.store == nil {
		return TOTPSetup{}, errNoMFA
	}
	if err := checkPassword(password, "password"); err != nil {
		return TOTPSetup{}, err
	}
	u, err := s.checkAccountPassword(ctx, userID, password)
	if err != nil {
		return TOTPSetup{}, err
	}
	if u.MFA {
		return TOTPSetup{}, ErrMFAEnabled
	}
	secret := make([]byte, totpSecretSize)
	if err := s.random(secret); err != nil {
		return TOTPSetup{}, err
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      s.mfa.issuer,
		AccountName: u.Email,
		Period:      totpPeriod,
		Secret:      secret,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return TOTPSetup{}, fmt.Errorf("auth: making the TOTP key: %w", err)
	}
	img, err := key.Image(totpQRSize, totpQRSize)
	if err != nil {
		return TOTPSetup{}, fmt.Errorf("auth: drawing the TOTP QR code: %w", err)
	}
	var qr bytes.Buffer
	if err := png.Encode(&qr, img); err != nil {
		return TOTPSetup{}, fmt.Errorf("auth: encoding the TOTP QR code: %w", err)
	}
	sealed, err := s.sealTOTP(u.ID, secret)
	if err != nil {
		return TOTPSetup{}, err
	}
	switch err := s.mfa.store.PutTOTP(ctx, u.ID, sealed, s.now()); {
	case errors.Is(err, ErrMFAEnabled):
		return TOTPSetup{}, ErrMFAEnabled // confirmed meanwhile
	case err != nil:
		return TOTPSetup{}, fmt.Errorf("auth: storing TOTP setup: %w", err)
	}
	s.record(ctx, Event{Kind: EventMFASetupStarted, UserID: u.ID, Email: u.Email})
	return TOTPSetup{Secret: key.Secret(), URI: key.URL(), QRCode: qr.Bytes()}, nil
}

// ConfirmTOTP turns two-factor authentication on for the user with ID
// userID, given a code of the secret of their setup ([Service.SetupTOTP]),
// and returns ten recovery codes: each logs in once in place of a code
// ([Service.LoginRecoveryCode]). They are shown once: the store keeps
// only their HMACs.
//
// A wrong code, or one of a setup that another replaced meanwhile, is
// [ErrInvalidCode], counted and throttled as a failed login; an empty
// one a [*FieldError] for "code". An account with no setup in progress
// is [ErrMFANotEnabled]; one whose two-factor authentication is on
// already, [ErrMFAEnabled]. With a Mailer, a notice goes to the user's
// address ([MailMFAEnabled]).
func (s *Service) ConfirmTOTP(ctx context.Context, userID, code string) (recoveryCodes []string, err error) {
	if s.mfa.store == nil {
		return nil, errNoMFA
	}
	if code == "" {
		return nil, &FieldError{Field: "code", Reason: "required"}
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return nil, lookupError(err)
	}
	if u.MFA {
		return nil, ErrMFAEnabled
	}
	t, err := s.mfa.store.TOTP(ctx, u.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, ErrMFANotEnabled
	case err != nil:
		return nil, fmt.Errorf("auth: reading TOTP setup: %w", err)
	case t.Confirmed:
		return nil, ErrMFAEnabled
	}
	succeeded, err := s.countLogin(ctx, u.Email, u.ID)
	if err != nil {
		return nil, err
	}
	secret, err := s.openTOTP(u.ID, t.Sealed)
	if err != nil {
		return nil, err
	}
	step, reason := matchCode(secret, code, t.LastStep, s.now())
	if reason != "" {
		return nil, s.codeRefused(ctx, u, reason+" at confirmation")
	}
	codes, hashes, err := s.newRecoveryCodes(u.ID)
	if err != nil {
		return nil, err
	}
	switch err := s.mfa.store.ConfirmTOTP(ctx, u.ID, t.Sealed, step, hashes); {
	case errors.Is(err, ErrNotFound):
		return nil, s.codeRefused(ctx, u, "setup replaced or confirmed meanwhile")
	case err != nil:
		return nil, fmt.Errorf("auth: confirming TOTP: %w", err)
	}
	succeeded()
	s.record(ctx, Event{Kind: EventMFAEnabled, UserID: u.ID, Email: u.Email})
	s.notify(ctx, MailMFAEnabled, u, "")
	return codes, nil
}

// codeRefused records the refusal of a code of u's for the reason and
// returns ErrInvalidCode.
func (s *Service) codeRefused(ctx context.Context, u User, reason string) error {
	s.record(ctx, Event{Kind: EventMFAFailed, UserID: u.ID, Email: u.Email, Reason: reason})
	return ErrInvalidCode
}

// newRecoveryCodes draws the recovery codes of the user with ID userID
// and returns them, as shown to the user, with their hashes.
func (s *Service) newRecoveryCodes(userID string) (codes, hashes []string, err error) {
	codes, hashes = make([]string, recoveryCodeCount), make([]string, recoveryCodeCount)
	var raw [recoveryCodeBytes]byte
	for i := range codes {
		if err := s.random(raw[:]); err != nil {
			return nil, nil, err
		}
		plain := b32.EncodeToString(raw[:])
		var b strings.Builder
		for j := 0; j < len(plain); j += 4 {
			if j > 0 {
				b.WriteByte('-')
			}
			b.WriteString(plain[j : j+4])
		}
		codes[i], hashes[i] = b.String(), s.recoveryHash(userID, plain)
	}
	return codes, hashes, nil
}

// recoveryHash is how an MFAStore knows a recovery code of the user
// with ID userID (in its canonical form: 24 upper-case base32
// characters): the hex HMAC-SHA-256 of the user ID and the code, keyed
// by a key derived from Config.Secret.
func (s *Service) recoveryHash(userID, code string) string {
	m := hmac.New(sha256.New, s.mfa.recoveryKey)
	m.Write([]byte(userID))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

// canonicalRecoveryCode returns code as recoveryHash takes it: upper
// case, without spaces or hyphens, with the digits that look like
// letters of the base32 alphabet (0, 1, 8) read as those letters (O, I,
// B); ok is false if it cannot be a recovery code.
func canonicalRecoveryCode(code string) (string, bool) {
	if len(code) > 64 {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c == ' ' || c == '-':
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case c == '0':
			c = 'O'
		case c == '1':
			c = 'I'
		case c == '8':
			c = 'B'
		}
		if !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return "", false
		}
		b.WriteByte(c)
	}
	return b.String(), b.Len() == recoveryCodeChars
}

// An mfaToken is unpadded base64url of
//
//	version (1 byte, 1) | expiry (8 bytes, big-endian Unix microseconds) |
//	session generation (8 bytes) | nonce (32 random bytes) | user ID | MAC (32 bytes)
//
// where MAC is HMAC-SHA-256, keyed with a key derived from Config.Secret,
// of everything before it. The AccountStore keeps its SHA-256 as a
// one-time token of purpose mfa_login, which the successful exchange
// spends: the MAC lets LoginTOTP read the login it belongs to without
// spending it, so that a wrong code leaves it usable.
const (
	mfaTokenHead   = 1 + 8 + 8 + 32
	mfaTokenMinLen = (mfaTokenHead+1+sha256.Size)*8/6 + 1
	mfaTokenMaxLen = 200
)

var mfaTokenEncoding = base64.RawURLEncoding.Strict()

// mfaLogin is what an mfaToken says of its login.
type mfaLogin struct {
	userID  string
	gen     int64
	expires time.Time
}

// requireMFA answers a login of u, which read session generation gen and
// whose password was right, that needs a second factor: it replaces u's
// hash with upgraded, if set (see Login), and returns the
// *MFARequiredError with the login's mfaToken. A store without the
// two-factor abilities cannot have set u.MFA; if it has, the login fails
// rather than skip the second factor.
func (s *Service) requireMFA(ctx context.Context, u User, gen int64, upgraded string) error {
	if s.mfa.store == nil {
		return errNoMFA
	}
	if upgraded != "" {
		s.upgradeHash(ctx, u, upgraded)
	}
	mr, err := s.newMFAToken(ctx, u, gen)
	if err != nil {
		return err
	}
	s.record(ctx, Event{Kind: EventMFARequired, UserID: u.ID, Email: u.Email})
	return mr
}

// newMFAToken issues and stores the mfaToken of a login of u, which read
// session generation gen.
func (s *Service) newMFAToken(ctx context.Context, u User, gen int64) (*MFARequiredError, error) {
	now := s.now()
	exp := now.Add(mfaTokenTTL).Truncate(time.Microsecond)
	tok, err := s.encodeMFAToken(mfaLogin{userID: u.ID, gen: gen, expires: exp})
	if err != nil {
		return nil, err
	}
	err = s.accounts.CreateOneTimeToken(ctx, OneTimeToken{
		Hash:      refreshHash(tok),
		Purpose:   purposeMFALogin,
		UserID:    u.ID,
		Email:     u.Email,
		CreatedAt: now,
		ExpiresAt: exp,
	})
	if err != nil {
		return nil, fmt.Errorf("auth: storing mfa token: %w", err)
	}
	return &MFARequiredError{MFAToken: tok, ExpiresAt: exp}, nil
}

// encodeMFAToken returns a new mfaToken, with a nonce of its own, for
// the login l.
func (s *Service) encodeMFAToken(l mfaLogin) (string, error) {
	raw := make([]byte, mfaTokenHead, mfaTokenHead+len(l.userID)+sha256.Size)
	raw[0] = 1
	binary.BigEndian.PutUint64(raw[1:], uint64(l.expires.UnixMicro()))
	binary.BigEndian.PutUint64(raw[9:], uint64(l.gen))
	if err := s.random(raw[17:mfaTokenHead]); err != nil {
		return "", err
	}
	raw = append(raw, l.userID...)
	raw = append(raw, s.mfaTokenMAC(raw)...)
	return mfaTokenEncoding.EncodeToString(raw), nil
}

func (s *Service) mfaTokenMAC(b []byte) []byte {
	m := hmac.New(sha256.New, s.mfa.tokenKey)
	m.Write(b)
	return m.Sum(nil)
}

// readMFAToken returns the login of an mfaToken whose MAC is good, or
// the reason it is refused: "malformed" or "expired".
func (s *Service) readMFAToken(tok string, now time.Time) (mfaLogin, string) {
	if len(tok) < mfaTokenMinLen || len(tok) > mfaTokenMaxLen || !isTokenText(tok) || strings.Contains(tok, ".") {
		return mfaLogin{}, "malformed"
	}
	raw, err := mfaTokenEncoding.DecodeString(tok)
	if err != nil || len(raw) <= mfaTokenHead+sha256.Size || raw[0] != 1 {
		return mfaLogin{}, "malformed"
	}
	body, mac := raw[:len(raw)-sha256.Size], raw[len(raw)-sha256.Size:]
	if !hmac.Equal(mac, s.mfaTokenMAC(body)) {
		return mfaLogin{}, "malformed"
	}
	l := mfaLogin{
		userID:  string(body[mfaTokenHead:]),
		gen:     int64(binary.BigEndian.Uint64(body[9:])),
		expires: time.UnixMicro(int64(binary.BigEndian.Uint64(body[1:]))),
	}
	if !now.Before(l.expires) {
		return l, "expired"
	}
	return l, ""
}

// LoginTOTP completes a login that [Service.Login] answered with an
// [*MFARequiredError], given its MFAToken and a current code of the
// account's authenticator, and returns the Grant that Login would have
// returned: an access token, a refresh token if they are on, and a
// device token. It hashes no password.
//
// A code is accepted within one time step (30 seconds) either side of
// the Service's clock, and only once: a code of a step no later than
// the last one accepted for the account, on any replica, is refused. A
// wrong, replayed or out-of-window code is [ErrInvalidCode], counted and
// throttled as a wrong password of the account (a
// [*throttle.ThrottledError] once too many), and leaves the mfaToken
// usable until it expires. The successful exchange spends it: of
// concurrent calls with one mfaToken, on any replicas, at most one gets
// a Grant.
//
// An mfaToken that is malformed, forged, expired (5 minutes after the
// login), spent, or of a login that a revocation of the account's
// sessions ([Service.RevokeSessions], a password change or reset) ended
// is refused with an error wrapping [ErrInvalidToken] (and
// [ErrTokenExpired] if expired): the client must log in again. An empty
// mfaToken or code is a [*FieldError] for "mfaToken" or "code"; a
// disabled account is [ErrAccountDisabled].
func (s *Service) LoginTOTP(ctx context.Context, mfaToken, code string) (*Grant, error) {
	return s.loginMFA(ctx, mfaToken, "code", code, s.useTOTPCode)
}

// LoginRecoveryCode completes a login as [Service.LoginTOTP] does, with
// one of the account's recovery codes ([Service.ConfirmTOTP]) in place
// of a code, and spends it. Case, spaces and hyphens in recoveryCode do
// not matter. A wrong or spent recovery code is [ErrInvalidCode],
// counted and throttled as a wrong password, and leaves the mfaToken
// usable; an empty one is a [*FieldError] for "recoveryCode".
func (s *Service) LoginRecoveryCode(ctx context.Context, mfaToken, recoveryCode string) (*Grant, error) {
	return s.loginMFA(ctx, mfaToken, "recoveryCode", recoveryCode, s.useRecoveryCode)
}

// loginMFA is LoginTOTP with use, the check of the second factor code
// (given as field), which spends it and returns "" or the reason it
// refuses it.
func (s *Service) loginMFA(ctx context.Context, mfaToken, field, code string, use func(context.Context, User, string) (string, error)) (*Grant, error) {
	if s.mfa.store == nil {
		return nil, errNoMFA
	}
	switch {
	case mfaToken == "":
		return nil, &FieldError{Field: "mfaToken", Reason: "required"}
	case code == "":
		return nil, &FieldError{Field: field, Reason: "required"}
	}
	reject := func(reason, userID string) (*Grant, error) {
		s.record(ctx, Event{Kind: EventMFAFailed, UserID: userID, Reason: "mfa token " + reason})
		if reason == "expired" {
			return nil, fmt.Errorf("%w: mfa token: %w", ErrInvalidToken, ErrTokenExpired)
		}
		return nil, fmt.Errorf("%w: mfa token %s", ErrInvalidToken, reason)
	}
	login, reason := s.readMFAToken(mfaToken, s.now())
	if reason != "" {
		return reject(reason, login.userID)
	}
	// A revocation since the login ends it here already; one from now
	// on, at startSession.
	switch gen, err := s.generation(ctx, login.userID); {
	case errors.Is(err, ErrNotFound):
		return reject("of a deleted account", login.userID)
	case err != nil:
		return nil, err
	case gen != login.gen:
		return reject("of a login ended by a revocation", login.userID)
	}
	u, err := s.store.UserByID(ctx, login.userID)
	switch {
	case errors.Is(err, ErrNotFound):
		return reject("of a deleted account", login.userID)
	case err != nil:
		return nil, lookupError(err)
	case u.Disabled:
		s.record(ctx, Event{Kind: EventMFAFailed, UserID: u.ID, Email: u.Email, Reason: "account disabled"})
		return nil, ErrAccountDisabled
	}
	succeeded, err := s.countLogin(ctx, u.Email, u.ID)
	if err != nil {
		return nil, err
	}
	if reason, err := use(ctx, u, code); err != nil {
		return nil, err
	} else if reason != "" {
		return nil, s.codeRefused(ctx, u, reason)
	}
	// The code is spent; now the token. Of concurrent exchanges with
	// one token, each with a good code, one gets it.
	switch t, err := s.accounts.UseOneTimeToken(ctx, refreshHash(mfaToken), purposeMFALogin); {
	case errors.Is(err, ErrNotFound):
		return reject("spent", u.ID)
	case err != nil:
		return nil, fmt.Errorf("auth: using mfa token: %w", err)
	case t.UserID != u.ID:
		return reject("of another account", u.ID)
	}
	succeeded()
	how := "totp"
	if field == "recoveryCode" {
		how = "recovery code"
		s.record(ctx, Event{Kind: EventMFARecoveryUsed, UserID: u.ID, Email: u.Email})
	}
	s.record(ctx, Event{Kind: EventMFALogin, UserID: u.ID, Email: u.Email, Reason: how})
	sess, err := s.startSession(ctx, u, login.gen)
	if errors.Is(err, ErrSessionsRevoked) || errors.Is(err, ErrNotFound) {
		return reject("of a login ended by a revocation", u.ID)
	}
	return s.withDeviceToken(sess, err)
}

// useTOTPCode checks code against u's confirmed authenticator and, if it
// matches a step later than the last one used, records that step as
// used. It returns "" if the code is accepted, or why it is not.
func (s *Service) useTOTPCode(ctx context.Context, u User, code string) (string, error) {
	t, err := s.mfa.store.TOTP(ctx, u.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		return "no authenticator", nil
	case err != nil:
		return "", fmt.Errorf("auth: reading TOTP: %w", err)
	case !t.Confirmed:
		return "no authenticator", nil
	}
	secret, err := s.openTOTP(u.ID, t.Sealed)
	if err != nil {
		return "", err
	}
	step, reason := matchCode(secret, code, t.LastStep, s.now())
	if reason != "" {
		return reason, nil
	}
	switch err := s.mfa.store.UseTOTPStep(ctx, u.ID, step); {
	case errors.Is(err, ErrNotFound):
		return "replayed code", nil // used meanwhile, here or on another replica
	case err != nil:
		return "", fmt.Errorf("auth: recording TOTP step: %w", err)
	}
	return "", nil
}

// useRecoveryCode spends u's recovery code code, returning "" if it did,
// or why it did not.
func (s *Service) useRecoveryCode(ctx context.Context, u User, code string) (string, error) {
	canon, ok := canonicalRecoveryCode(code)
	if !ok {
		return "malformed recovery code", nil
	}
	switch err := s.mfa.store.UseRecoveryCode(ctx, u.ID, s.recoveryHash(u.ID, canon)); {
	case errors.Is(err, ErrNotFound):
		return "wrong or spent recovery code", nil
	case err != nil:
		return "", fmt.Errorf("auth: using recovery code: %w", err)
	}
	return "", nil
}

// DisableTOTP turns two-factor authentication off for the user with ID
// userID, given their password and a current code of their authenticator
// or one of their recovery codes (which is spent): the secret and the
// recovery codes are deleted. A wrong password is
// [ErrInvalidCredentials], a wrong code [ErrInvalidCode], both counted
// and throttled as a failed login; an empty password or code is a
// [*FieldError] for "password" or "code". An account whose two-factor
// authentication is off is [ErrMFANotEnabled] (after the password).
// With a Mailer, a notice goes to the user's address
// ([MailMFADisabled]).
func (s *Service) DisableTOTP(ctx context.Context, userID, password, code string) error {
	if s.mfa.store == nil {
		return errNoMFA
	}
	if err := checkPassword(password, "password"); err != nil {
		return err
	}
	if code == "" {
		return &FieldError{Field: "code", Reason: "required"}
	}
	// One attempt, counted once, that succeeds only if both are right:
	// a right password alone does not clear the count, so that guessing
	// codes with it is throttled.
	u, succeeded, err := s.countAccountPassword(ctx, userID, password)
	if err != nil {
		return err
	}
	if !u.MFA {
		succeeded()
		return ErrMFANotEnabled
	}
	use := s.useTOTPCode
	if len(strings.ReplaceAll(code, " ", "")) != 6 {
		use = s.useRecoveryCode
	}
	if reason, err := use(ctx, u, code); err != nil {
		return err
	} else if reason != "" {
		return s.codeRefused(ctx, u, reason+" to disable")
	}
	succeeded()
	if err := s.mfa.store.DeleteTOTP(ctx, u.ID); err != nil {
		return fmt.Errorf("auth: deleting TOTP: %w", err)
	}
	s.record(ctx, Event{Kind: EventMFADisabled, UserID: u.ID, Email: u.Email, Reason: "by its user"})
	s.notify(ctx, MailMFADisabled, u, "")
	return nil
}

// ResetTOTP turns two-factor authentication off for the user with ID
// userID without asking for a password or code, for an operator helping
// a user who lost both their authenticator and their recovery codes,
// once they have proved who they are by other means (see the operator
// API at [Service.DisableUser]). Resetting an account without two-factor
// authentication is not an error; an unknown user is an error wrapping
// [ErrNotFound]. With a Mailer, a notice goes to the user's address
// ([MailMFADisabled]) if two-factor authentication was on.
func (s *Service) ResetTOTP(ctx context.Context, userID string) error {
	if s.mfa.store == nil {
		return errNoMFA
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return lookupError(err)
	}
	if err := s.mfa.store.DeleteTOTP(ctx, userID); err != nil {
		return fmt.Errorf("auth: deleting TOTP: %w", err)
	}
	s.record(ctx, Event{Kind: EventMFADisabled, UserID: userID, Email: u.Email, Reason: "by an operator"})
	if u.MFA {
		s.notify(ctx, MailMFADisabled, u, "")
	}
	return nil
}
