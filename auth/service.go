package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gatehouse-go/gatehouse/auth/password"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/auth/token"
)

// Config configures a [Service]. Only Secret is required; every zero field
// takes the default stated beside it.
type Config struct {
	// Secret is the HS256 signing key, unless Keys is set, and always the
	// key of the HMACs that name login-throttling counters (see
	// [throttle.Store]) and sign device tokens and mfaTokens, and of the
	// keys that seal TOTP secrets and hash recovery codes (see
	// [Service.SetupTOTP]): changing it makes every enrolled
	// authenticator and recovery code unusable. Required: at least 32 bytes,
	// and it should be random (32 bytes from crypto/rand, say). Every
	// replica of a service must share it. New copies it. Tokens it signs
	// carry no kid, as the wire contract's tokens do.
	Secret []byte

	// Keys, if set, are the keys that sign and verify tokens instead of
	// Secret: its active key signs, and every key verifies the tokens
	// whose kid names it (see [token.KeySet], which also says how to
	// rotate keys on a running service). Its active key must be able to
	// sign. Default: nil, for a set of one HS256 key made of Secret with
	// ID ""; [Service.Keys] returns it, so that even this set can be
	// rotated.
	Keys *token.KeySet

	// CustomClaims, if set, is called each time a token is issued for a
	// user (by Signup, Login or IssueToken) and returns claims to add to
	// the token's payload, such as the user's roles; handlers read them
	// back with [token.Claims.Decode]. The registered claims and those of
	// [token.Claims] (iss, sub, aud, exp, nbf, iat, jti, userId, userName,
	// email, email_verified, gen) are reserved: returning one of them, under its own name or
	// in another case ("UserId", "EXP"; as strings.EqualFold compares), or
	// two names that differ only in case ("role" and "Role"), makes
	// issuing fail with an error wrapping [ErrInvalidConfig] (the Verifier
	// would refuse the token). An error of CustomClaims also makes
	// issuing fail; it is returned wrapped (errors.Is finds it), not as
	// ErrInvalidConfig. Default: nil, no custom claims.
	CustomClaims func(ctx context.Context, u User) (map[string]any, error)

	// TokenTTL is how long an access token is valid. Default: 1 hour.
	TokenTTL time.Duration

	// Issuer, if set, is written into tokens as iss and required of every
	// token verified. Default: empty (no iss written or checked).
	Issuer string

	// Audience, if set, is written into tokens as aud and required of every
	// token verified. Default: empty (no aud written or checked).
	Audience string

	// RefreshTokens turns refresh tokens on: Signup and Login then also
	// return one (Grant.RefreshToken), which [Service.Refresh] trades
	// for a new access token and a new refresh token, the old one being
	// spent; [Service.Logout] ends the session. The store must implement
	// [SessionStore]. Default: false: a session is
	// an access token alone.
	RefreshTokens bool

	// RefreshTTL is how long a refresh token can be used after it was
	// issued. Each refresh issues a new one, so a session used at least
	// that often lasts until it is ended. Default: 30 days.
	RefreshTTL time.Duration

	// RefreshReuseGrace is how long after a refresh token was spent the
	// same token may come back, as a client's retry after a lost
	// response, and get the same new refresh token again (with a new
	// access token) instead of counting as reuse. Any other reuse of a
	// spent token, the sign of a stolen one, revokes its whole session.
	// Default: 10 seconds. Negative: none, so of any two uses of one
	// token, however close, the second revokes the session. It must be
	// shorter than RefreshTTL.
	RefreshReuseGrace time.Duration

	// CheckRevocation makes verification stateful: VerifyToken also
	// refuses an access token of a session that was revoked since
	// ([Service.RevokeSessions], or a password change), including one of
	// a login that was in flight at the time, at the cost of one store
	// read (SessionStore.SessionGeneration, by primary key) per
	// verification.
	// The store must implement [SessionStore]. Default: false: access
	// tokens stay valid until they expire.
	CheckRevocation bool

	// TokenCacheSize is how many verified access tokens VerifyToken
	// remembers, so that a token seen again skips the signature check
	// (see token.Config.CacheSize). Default: 4096. Negative: no cache.
	TokenCacheSize int

	// MaxTokenBytes caps the length of a token accepted for verification;
	// longer ones are rejected before any parsing. Default: 4096.
	MaxTokenBytes int

	// Params are the argon2id parameters for new password hashes. Default:
	// [password.DefaultParams] (m=19456 KiB, t=2, p=1, 16-byte salt,
	// 32-byte key) when Params is the zero value; otherwise every field
	// must be set. New rejects parameters weaker than OWASP's minimum.
	Params password.Params

	// MaxConcurrentHashes bounds the argon2id computations running at once
	// in this Service, and with it the hashing memory that is live: each
	// allocates Params.Memory KiB of work memory (a stored hash made with
	// more, that much), garbage once it is done (see "Concurrency and
	// memory" in package password). Default: runtime.GOMAXPROCS(0) at the
	// time of New.
	MaxConcurrentHashes int

	// HashWait is how long Signup, Login and ChangePassword wait for a
	// hashing slot before giving up with [ErrBusy]. A call that would not
	// get one within HashWait, judged by the time recent hashes held
	// their slots, or that finds 64 × MaxConcurrentHashes calls waiting
	// already, gets ErrBusy at once, so that waiting calls hold memory
	// only as long as they can be served (see password.Config.Wait and
	// MaxWaiting). Default: 1 second.
	HashWait time.Duration

	// LoginThrottle is the throttling of Login (and of the current
	// password of ChangePassword) per account key, the normalised email,
	// whether or not an account has it, and client, and per account key
	// from all clients together: see [throttle.LoginConfig]. The client is
	// the device of a valid device token for the account
	// ([WithDeviceToken]) if the call carries one, which also exempts it
	// from the account-wide limit (MaxAccountFailures), and otherwise the
	// address the caller gave with [WithClientIP] (an IPv4 address, or the
	// /64 network of an IPv6 one); calls with neither are all one client.
	// Defaults, field by field: BackoffAfter 5 consecutive failures
	// (negative: no backoff), Backoff 1 second, doubling up to BackoffMax
	// 1 minute, MaxClientFailures 20 (negative: no cap),
	// MaxAccountFailures 100 (negative: no limit), Window 1 hour (at most
	// [throttle.Retention]).
	LoginThrottle throttle.LoginConfig

	// Attempts keeps the counters of login attempts per account key, and
	// those of the Limiters made by [Service.NewLimiter]. Default: the
	// UserStore itself if it implements [throttle.Store] (every store of
	// this module does, so replicas sharing a database share the
	// counters), otherwise throttle.NewMemoryStore(0), local to this
	// Service.
	Attempts throttle.Store

	// Logger receives an audit record of every sign-up, login success and
	// failure, throttled attempt and rejected token (see [Event]): failed
	// logins, refused second factors, two-factor authentication turned
	// off, duplicate sign-ups and throttling at level Warn, the rest
	// (rejected tokens included: expired ones are routine) at Info. Records never hold a
	// password, hash, token or secret; they do hold emails and client
	// addresses. Default: slog.Default(). To turn them off, pass
	// slog.New(slog.DiscardHandler).
	Logger *slog.Logger

	// OnEvent, if set, is called with every audit event, synchronously, in
	// the goroutine of the call that caused it: keep it fast, and safe for
	// concurrent use. Default: nil.
	OnEvent func(context.Context, Event)

	// Mailer sends the mail of the account flows: the verification link
	// at sign-up and on request, password reset links, email change links
	// and the notices that go with them. Messages go through a queue of
	// MailQueueSize messages, drained by up to 4 goroutines that run only
	// while it holds messages, so no call waits for a Mailer; a message
	// that finds the queue full is dropped and recorded as an
	// EventMailFailed. Default: nil: no mail is sent, and the flows that
	// need one (ResendVerification, ForgotPassword, RequestEmailChange)
	// return an error wrapping errors.ErrUnsupported.
	Mailer Mailer

	// MailQueueSize bounds the messages waiting for the Mailer. Default:
	// 1000.
	MailQueueSize int

	// MailTemplates overrides the templates of the messages, kind by kind;
	// a kind it does not set keeps [DefaultMailTemplates]' template, and
	// every MailTemplate it sets must have its three templates, which New
	// executes once with sample data: one that fails is refused. Default:
	// nil.
	MailTemplates map[MailKind]MailTemplate

	// RequireVerifiedEmail makes Login refuse an account whose email is
	// not verified ([User.EmailVerified]) with [ErrEmailNotVerified],
	// only after a correct password (so the error tells nobody without
	// the password anything). Default: false: access tokens carry
	// email_verified ([token.Claims.EmailVerified]) and applications
	// decide, route by route.
	RequireVerifiedEmail bool

	// VerifyEmailTTL is how long an email verification link works.
	// Default: 24 hours.
	VerifyEmailTTL time.Duration

	// ResetPasswordTTL is how long a password reset link works. Default:
	// 1 hour.
	ResetPasswordTTL time.Duration

	// ChangeEmailTTL is how long the link that confirms an email change
	// works. Default: 1 hour.
	ChangeEmailTTL time.Duration

	// PublicURL is the base of the links in mail: the application's pages
	// {PublicURL}/verify-email?token=T, {PublicURL}/reset-password?token=T
	// and {PublicURL}/confirm-email?token=T. It must be an absolute http
	// or https URL without credentials, query or fragment. Default:
	// http://localhost:8080.
	PublicURL string

	// TOTPIssuer names the service in the otpauth URI of a TOTP setup
	// ([Service.SetupTOTP]): authenticator apps show it above the
	// account's email. At most 100 bytes, without a colon or a control
	// character. Default: the host of Issuer if it is a URL, else Issuer
	// if it is such a name, else "Gatehouse".
	TOTPIssuer string

	// Now returns the current time. Default: time.Now.
	Now func() time.Time

	// Rand is the source of salts, user IDs and token IDs. Default:
	// crypto/rand.Reader.
	Rand io.Reader
}

// Service signs users up, logs them in, and issues and verifies their
// tokens. It is safe for concurrent use; create one with [New] and share it.
type Service struct {
	auditor
	store           UserStore
	keys            *token.KeySet
	verifier        *token.Verifier
	customClaims    func(context.Context, User) (map[string]any, error)
	ttl             time.Duration
	issuer          string
	audience        string
	hasher          *password.Hasher
	rand            io.Reader
	attempts        throttle.Store
	attemptKeyMAC   []byte
	deviceKey       []byte // keys device tokens' MACs
	login           *throttle.LoginPolicy
	passwords       PasswordStore // nil if the store cannot change hashes
	sessions        SessionStore  // nil unless RefreshTokens or CheckRevocation
	refresh         refreshPolicy
	mail            *mailQueue // nil without a Mailer
	templates       map[MailKind]MailTemplate
	publicURL       string
	accounts        AccountStore // nil if the store has no account flows
	requireVerified bool
	linkTTL         map[string]time.Duration // by one-time-token purpose
	limits          flowLimits
	mfa             mfaPolicy
}

// New returns a Service that keeps users in store. It returns an error
// wrapping [ErrInvalidConfig] if cfg cannot be used: no store, a secret
// shorter than 32 bytes, hashing parameters out of bounds, a negative
// duration or limit (other than those for which negative means "off"), or
// throttling windows that do not fit (see [Config]).
func New(store UserStore, cfg Config) (*Service, error) {
	bad := func(format string, a ...any) (*Service, error) {
		return nil, fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, a...))
	}
	if store == nil {
		return bad("nil UserStore")
	}
	if len(cfg.Secret) < 32 {
		return bad("secret is %d bytes; at least 32 are required", len(cfg.Secret))
	}
	if cfg.TokenTTL < 0 || cfg.HashWait < 0 || cfg.MaxTokenBytes < 0 || cfg.MaxConcurrentHashes < 0 {
		return bad("negative TokenTTL, HashWait, MaxTokenBytes or MaxConcurrentHashes")
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.MaxTokenBytes == 0 {
		cfg.MaxTokenBytes = 4096
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	hasher, err := password.New(password.Config{
		Params:        cfg.Params,
		MaxConcurrent: cfg.MaxConcurrentHashes,
		Wait:          cfg.HashWait,
		Rand:          cfg.Rand,
	})
	if err != nil {
		return bad("%v", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Attempts == nil {
		if as, ok := store.(throttle.Store); ok {
			cfg.Attempts = as
		} else {
			cfg.Attempts = throttle.NewMemoryStore(0)
		}
	}
	attemptKeyMAC := newAttemptKeyMAC(cfg.Secret)
	login, err := throttle.NewLoginPolicy(cfg.Attempts, attemptKeyMAC, cfg.LoginThrottle)
	if err != nil {
		return bad("%v", err)
	}
	if cfg.Keys == nil {
		key, err := token.NewKey("", cfg.Secret)
		if err != nil {
			return bad("%v", err)
		}
		cfg.Keys, _ = token.NewKeySet(key)
	} else if !cfg.Keys.Active().CanSign() {
		return bad("the active key %q of Keys cannot sign: it is a public key", cfg.Keys.Active().ID())
	}
	refresh, sessions, err := newRefreshPolicy(store, &cfg)
	if err != nil {
		return bad("%v", err)
	}
	audit := auditor{log: cfg.Logger, onEvent: cfg.OnEvent, now: cfg.Now}
	vcfg := token.Config{
		Issuer:        cfg.Issuer,
		Audience:      cfg.Audience,
		MaxTokenBytes: cfg.MaxTokenBytes,
		CacheSize:     cfg.TokenCacheSize,
		Rejected: func(ctx context.Context, userID string, err error) {
			audit.record(ctx, Event{Kind: EventTokenRejected, UserID: userID, Reason: err.Error()})
		},
		Now: cfg.Now,
	}
	if cfg.CheckRevocation {
		vcfg.Revocations = revocations{sessions}
	}
	passwords, _ := store.(PasswordStore)
	publicURL, err := checkPublicURL(cfg.PublicURL)
	if err != nil {
		return bad("%v", err)
	}
	templates, err := mailTemplates(cfg.MailTemplates)
	if err != nil {
		return bad("%v", err)
	}
	if cfg.MailQueueSize < 0 {
		return bad("negative MailQueueSize")
	}
	if cfg.MailQueueSize == 0 {
		cfg.MailQueueSize = 1000
	}
	linkTTL, err := linkTTLs(cfg)
	if err != nil {
		return bad("%v", err)
	}
	verifier, err := token.NewVerifier(cfg.Keys, vcfg)
	if err != nil {
		return bad("%v", err)
	}
	svc := &Service{
		auditor:         audit,
		store:           store,
		keys:            cfg.Keys,
		verifier:        verifier,
		customClaims:    cfg.CustomClaims,
		ttl:             cfg.TokenTTL,
		issuer:          cfg.Issuer,
		audience:        cfg.Audience,
		hasher:          hasher,
		rand:            cfg.Rand,
		attempts:        cfg.Attempts,
		attemptKeyMAC:   attemptKeyMAC,
		deviceKey:       newDeviceKey(cfg.Secret),
		login:           login,
		passwords:       passwords,
		sessions:        sessions,
		refresh:         refresh,
		templates:       templates,
		publicURL:       publicURL,
		requireVerified: cfg.RequireVerifiedEmail,
		linkTTL:         linkTTL,
	}
	svc.accounts, _ = store.(AccountStore)
	if svc.mfa, err = newMFAPolicy(store, cfg); err != nil {
		return bad("%v", err)
	}
	if svc.limits, err = svc.newFlowLimits(); err != nil {
		return bad("%v", err)
	}
	if cfg.Mailer != nil {
		svc.mail = newMailQueue(cfg.Mailer, &svc.auditor, cfg.MailQueueSize, mailWorkers)
	}
	return svc, nil
}

// Grant is what a successful Signup, Login, Refresh or ChangePassword
// grants: the account and its tokens. (A session, in this package, is a
// family of refresh tokens: see [SessionStore].)
type Grant struct {
	User      User      // the account; PasswordHash is always empty
	Token     string    // the signed access token
	IssuedAt  time.Time // when Token was issued (its iat)
	ExpiresAt time.Time // when Token expires (its exp)
	// RefreshToken is the refresh token of the session, if
	// Config.RefreshTokens is on; otherwise "".
	RefreshToken string
	// RefreshExpiresAt is when RefreshToken expires, at the latest
	// (Config.RefreshTTL after IssuedAt); the zero time without one.
	RefreshExpiresAt time.Time
	// DeviceToken, set by Signup and Login, is a device token for the
	// account, valid for [DeviceTokenLifetime]: a client that keeps it
	// and presents it at its next logins ([WithDeviceToken]) is throttled
	// on its own, apart from other clients (see
	// Config.LoginThrottle). It is a credential for throttling
	// only; it logs nobody in. Package httpauth keeps it in a cookie.
	DeviceToken string
}

// NewUser is the input of [Service.Signup].
type NewUser struct {
	Name     string
	Email    string
	Password string
}

// Signup creates an account and returns it with a fresh token.
//
// The name is trimmed, NFC-normalised and must be 1 to 100 characters
// without control characters; the email is normalised by
// [NormalizeEmail]; the password must be 8 characters (code points) to 1024
// bytes, not equal to the email or name nor a common password, and is
// NFKC-normalised before hashing. A rejected input is a [*FieldError]; an email already registered
// is [ErrDuplicateEmail]; exhausted hashing capacity is [ErrBusy]. Store
// failures are returned wrapped.
//
// A sign-up succeeds whole or leaves nothing behind: the access token is
// issued before the account is stored, and if the refresh token (with
// Config.RefreshTokens) or the device token cannot be made after it, the
// account is deleted again before Signup returns the error. This needs a
// store that implements [AccountStore] (every store of this module does);
// with another, such an account stays, and the same sign-up then finds
// its email taken.
//
// With a Mailer (Config.Mailer) and a store that implements
// [AccountStore], a successful Signup then queues a mail with a link that
// verifies the address (see [Service.VerifyEmail]); a failure to queue it
// is recorded as an [EventMailFailed] and does not fail the sign-up.
func (s *Service) Signup(ctx context.Context, nu NewUser) (*Grant, error) {
	name, err := normalizeName(nu.Name)
	if err != nil {
		return nil, err
	}
	email, err := NormalizeEmail(nu.Email)
	if err != nil {
		return nil, err
	}
	if err := checkNewPassword(nu.Password, email, name, "password"); err != nil {
		return nil, err
	}
	var id [16]byte
	if err := s.random(id[:]); err != nil {
		return nil, err
	}
	u := User{ID: hex.EncodeToString(id[:]), Email: email, Name: name, CreatedAt: s.now()}
	u.PasswordHash, err = s.hasher.Hash(ctx, nu.Password)
	if err != nil {
		return nil, err
	}
	// The access token is issued before the account is stored, so that a
	// failure to issue it (Config.CustomClaims, say) stores nothing; a
	// failure after the account is stored undoes it.
	sess, err := s.session(ctx, u, "", 0)
	if err != nil {
		return nil, err
	}
	if err := s.createUser(ctx, u); err != nil {
		if errors.Is(err, ErrDuplicateEmail) {
			s.record(ctx, Event{Kind: EventSignupFailed, Email: email, Reason: "email already registered"})
			return nil, ErrDuplicateEmail // the same text whatever the store
		}
		return nil, fmt.Errorf("auth: creating user: %w", err)
	}
	if s.refresh.on {
		// A new account's sessions are of generation 0.
		if sess.RefreshToken, err = s.newRefreshToken(ctx, u.ID, 0); err != nil {
			return nil, s.undoSignup(ctx, u, err)
		}
		sess.RefreshExpiresAt = sess.IssuedAt.Add(s.refresh.ttl)
	}
	if sess, err = s.withDeviceToken(sess, nil); err != nil {
		return nil, s.undoSignup(ctx, u, err)
	}
	s.record(ctx, Event{Kind: EventSignup, UserID: u.ID, Email: email})
	if s.mail != nil && s.accounts != nil {
		s.sendVerification(ctx, u)
	}
	return sess, nil
}

// undoTimeout bounds the deletion by which undoSignup undoes a sign-up,
// which runs even if the caller's context is done.
const undoTimeout = 10 * time.Second

// undoSignup deletes u, which Signup stored before failing with err, so
// that the failed sign-up leaves no account behind, and returns err. The
// deletion runs even if ctx is done (a client that went away is the
// likely cause of err). With a store that cannot delete (no
// [AccountStore]), or if the deletion fails too, the account stays, and
// its error is joined to err.
func (s *Service) undoSignup(ctx context.Context, u User, err error) error {
	if s.accounts == nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	if derr := s.accounts.DeleteUser(ctx, u.ID); derr != nil {
		return errors.Join(err, fmt.Errorf("auth: deleting the account of a failed sign-up: %w", derr))
	}
	return err
}

// Login checks an email and password and returns the account with a fresh
// token. An unknown email and a wrong password both return
// [ErrInvalidCredentials], after the same amount of hashing work. An email
// that cannot be valid, or a missing or over-long password, is a
// [*FieldError]; exhausted hashing capacity is [ErrBusy]. Store failures and
// undecodable stored hashes are returned wrapped.
//
// After a correct password, and only then, a disabled account
// ([Service.DisableUser]) is refused with [ErrAccountDisabled] and, with
// Config.RequireVerifiedEmail, an account whose email is not verified
// with [ErrEmailNotVerified]; both are recorded as an [EventLoginFailed].
//
// The stored hash may be argon2id or, for accounts imported from another
// system ([Service.ImportUser]), bcrypt. After a successful login, a bcrypt
// hash, or an argon2id one with a smaller memory × passes product, salt or
// key than Config.Params, is replaced with an argon2id hash of the current
// parameters, if the store implements [PasswordStore] (that login costs
// one hash more); a failed replacement is logged and the login succeeds.
//
// Logins are throttled per account key, the normalised email, whether or
// not an account has it, and client (see Config.LoginThrottle, whose
// BackoffAfter and MaxClientFailures apply), and per account key from all
// clients together (MaxAccountFailures), except for clients that present
// a device token for the account ([WithDeviceToken]): so one client's
// failures slow that client, and only many together slow the account for
// others. An attempt refused by either is a [*throttle.ThrottledError]
// before the store is asked about the email and before any hashing. Every
// other attempt is counted before its password is checked, whatever its
// outcome, and a successful login clears its client's count and is not
// taken for a failure of the account: so concurrent attempts cannot
// together get more passwords checked than the policy allows, on any
// number of replicas, but more than Config.LoginThrottle.BackoffAfter
// logins from one client at the same moment, or in a row that fail for
// want of a working store, see the backoff too. An attempt that the
// hashing queue refuses at once ([ErrBusy]: every slot taken, and no slot
// expected within Config.HashWait) is refused before it is counted, and
// counts as no attempt; one admitted that then waits for a slot past
// HashWait counts. If a
// counter cannot be read or written, Login fails with that error, wrapped,
// and checks nothing: throttling fails closed. A successful Login returns a new
// device token in [Grant.DeviceToken].
func (s *Service) Login(ctx context.Context, email, password string) (*Grant, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if err := checkPassword(password, "password"); err != nil {
		return nil, err
	}
	// A place in the hashing queue first: an attempt refused for want of
	// capacity (ErrBusy) is not counted, so that a client retrying as
	// Retry-After says during a flood is not throttled for it.
	ctx, release, err := s.hasher.Admit(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	succeeded, passed, err := s.countLoginFactors(ctx, email, "")
	if err != nil {
		return nil, err
	}
	u, gen, err := s.readAccount(ctx, email)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	var match bool
	var upgraded string // a hash of password with the current parameters, if the stored one is weaker
	switch {
	case !found:
		// Same work as a real check, so response time says nothing
		// about whether the account exists.
		_, err = s.hasher.Hash(ctx, password)
	case s.passwords != nil && s.hasher.NeedsRehash(u.PasswordHash):
		match, upgraded, err = s.hasher.VerifyAndHash(ctx, password, u.PasswordHash, password)
	default:
		match, err = s.hasher.Verify(ctx, password, u.PasswordHash)
	}
	if err != nil {
		return nil, err
	}
	if !match {
		ev := Event{Kind: EventLoginFailed, Email: email, Reason: "unknown email"}
		if found {
			ev.UserID, ev.Reason = u.ID, "wrong password"
		}
		s.record(ctx, ev)
		return nil, ErrInvalidCredentials
	}
	if u.MFA {
		// With a second factor to come, the attempt succeeds only with
		// it (LoginTOTP): a right password is no failure of the account,
		// but does not clear the client's count, so that guessing codes
		// with it is throttled.
		passed()
	} else {
		succeeded()
	}
	switch {
	case u.Disabled:
		s.record(ctx, Event{Kind: EventLoginFailed, UserID: u.ID, Email: email, Reason: "account disabled"})
		return nil, ErrAccountDisabled
	case s.requireVerified && !u.EmailVerified:
		s.record(ctx, Event{Kind: EventLoginFailed, UserID: u.ID, Email: email, Reason: "email not verified"})
		return nil, ErrEmailNotVerified
	}
	if u.MFA {
		return nil, s.requireMFA(ctx, u, gen, upgraded)
	}
	s.record(ctx, Event{Kind: EventLogin, UserID: u.ID, Email: email})
	if upgraded != "" {
		s.upgradeHash(ctx, u, upgraded)
	}
	sess, err := s.startSession(ctx, u, gen)
	if errors.Is(err, ErrSessionsRevoked) || errors.Is(err, ErrNotFound) {
		// The account's sessions were revoked, or the account deleted,
		// after this login read it: the login ends with them.
		s.record(ctx, Event{Kind: EventLoginFailed, UserID: u.ID, Email: email, Reason: "sessions revoked during login"})
		return nil, ErrInvalidCredentials
	}
	return s.withDeviceToken(sess, err)
}

// readAccount returns the user with the normalised email and its session
// generation (0 if sessions are not tracked), or an error wrapping
// ErrNotFound. With sessions tracked, the user is read again by ID after
// the generation, so that the password hash returned is at least as new
// as the generation: a password change revokes the sessions after
// storing the new hash, so a login that checks the old hash gets an old
// generation, under which no session can start.
func (s *Service) readAccount(ctx context.Context, email string) (User, int64, error) {
	u, err := s.userByEmail(ctx, email)
	if err != nil {
		return User{}, 0, lookupError(err)
	}
	if s.sessions == nil {
		return u, 0, nil
	}
	gen, err := s.generation(ctx, u.ID)
	if err != nil {
		return User{}, 0, err
	}
	if u, err = s.store.UserByID(ctx, u.ID); err != nil {
		return User{}, 0, lookupError(err)
	}
	return u, gen, nil
}

// lookupError wraps an error of a user lookup, keeping ErrNotFound
// detectable.
func lookupError(err error) error {
	return fmt.Errorf("auth: looking up user: %w", err)
}

// userByEmail returns the account with the normalised email. A store may
// hold an address whose domain is in A-labels ("xn--"), which
// [NormalizeEmail] turns into U-labels: so when email's domain is not
// ASCII and no account has email itself, its A-label spelling is looked up
// too.
func (s *Service) userByEmail(ctx context.Context, email string) (User, error) {
	u, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		if a := asciiDomainEmail(email); a != "" {
			return s.store.UserByEmail(ctx, a)
		}
	}
	return u, err
}

// createUser stores u unless an account has its email, in either spelling
// of a non-ASCII domain (see userByEmail): then it returns
// ErrDuplicateEmail.
func (s *Service) createUser(ctx context.Context, u User) error {
	if a := asciiDomainEmail(u.Email); a != "" {
		_, err := s.store.UserByEmail(ctx, a)
		if err == nil {
			return ErrDuplicateEmail
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return s.store.CreateUser(ctx, u)
}

func (s *Service) random(b []byte) error {
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return fmt.Errorf("auth: reading random bytes: %w", err)
	}
	return nil
}
