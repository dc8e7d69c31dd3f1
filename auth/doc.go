// Package auth signs users up, logs them in, and issues and verifies their
// JWT access tokens. It imports no database driver and no router: storage is
// any [UserStore] (see the store packages of this module), and the HTTP
// endpoints live in package httpauth.
//
//	svc, err := auth.New(store, auth.Config{Secret: secret})
//	s, err := svc.Signup(ctx, auth.NewUser{Name: "Ada", Email: "ada@example.com", Password: "..."})
//	s, err = svc.Login(ctx, "ada@example.com", "...")
//	claims, err := svc.VerifyToken(ctx, s.Token)
//
// # Tokens
//
// Access tokens are JWTs, valid for one hour by default, whose payload
// carries userId, userName, email, iat and exp (exp - iat equals the
// lifetime), plus email_verified, sub and jti, iss and aud when configured,
// gen when sessions are tracked, and the
// application's own claims (Config.CustomClaims, read back with
// [token.Claims.Decode]). By default they are HS256, signed with
// Config.Secret, with no kid: a token carrying only the wire contract's fields,
// signed with the same secret by any HS256 implementation, is accepted, so
// a service can replace an older implementation without logging anyone
// out. Verification requires exp, rejects tokens longer than
// Config.MaxTokenBytes before parsing them and decodes base64 strictly.
// Package [github.com/gatehouse-go/gatehouse/auth/token] holds the keys,
// the signing and the [token.Verifier]; the Service composes them.
//
// # Keys
//
// Config.Keys replaces the secret with a [token.KeySet]: one active key
// that signs, plus verify-only keys, each an HS256 secret or an EdDSA
// (Ed25519), ES256 or RS256 key ([token.NewKey], [token.ParseKeyPEM])
// bound to that one algorithm and named by a kid written into the token
// header. A token is verified by the key its kid names, under that key's
// algorithm only; no header can point the verifier at another key. Keys
// rotate on a running service ([token.KeySet.Rotate],
// [token.KeySet.Promote], [token.KeySet.Remove]); [token.KeySet.JWKS]
// publishes the public keys (package httpauth serves them), and services
// that only verify make a [token.Verifier] from them ([token.ParseJWKS],
// [token.NewVerifier]) without holding any signing key, and without
// linking this package or its password hashing.
//
// # Sessions
//
// With Config.RefreshTokens, every sign-up and login also starts a
// session with a refresh token: opaque, 256 random bits, stored only as
// its SHA-256 by a [SessionStore]. [Service.Refresh] spends it for a new
// access token and its successor, atomically; a spent token that comes
// back outside Config.RefreshReuseGrace revokes its whole session.
// [Service.Logout] ends one session, [Service.RevokeSessions] every
// session of a user, and with Config.CheckRevocation the verifier then
// refuses the user's older access tokens too. [Service.ChangePassword]
// needs the current password and ends the other sessions.
//
// # Account lifecycle
//
// With a store that implements [AccountStore] (every store of this
// module does) and a [Mailer] (Config.Mailer), the Service runs the flows
// of an account's life; without a Mailer, those that mail a link on
// request return an error wrapping errors.ErrUnsupported, and without an
// AccountStore they all do.
//
//   - Verification: Signup mails a link to the address;
//     [Service.VerifyEmail] takes its token and marks the address verified,
//     which tokens issued afterwards carry as email_verified.
//     [Service.ResendVerification] mails another, at most 3 per user with
//     no pause of an hour between them. Config.RequireVerifiedEmail makes
//     Login refuse unverified accounts ([ErrEmailNotVerified]) after a
//     correct password.
//   - Password reset: [Service.ForgotPassword] answers alike, after the
//     same work, whether or not an account has the address, and leaves the
//     lookup and the mail to a job of the mail queue; it is throttled per
//     address (3) and per client address (20), each with no pause of an
//     hour between requests. [Service.ResetPassword] takes the link's token
//     and a new password, which passes the sign-up policy, and ends every
//     session of the user as [Service.RevokeSessions] does.
//   - Email change: [Service.RequestEmailChange], given the password,
//     mails a link to the new address and a notice to the old one;
//     [Service.ConfirmEmailChange] takes the link's token and sets the new
//     address, verified.
//   - Profile and deletion: [Service.User], [Service.UpdateName], and
//     [Service.DeleteAccount], given the password, which deletes the user,
//     their sessions and links, and the throttling state it can name.
//   - Operators: [Service.DisableUser] (Login and Refresh refuse the
//     account with [ErrAccountDisabled]; its sessions end),
//     [Service.EnableUser], [Service.DeleteUser], [Service.SetPassword],
//     [Service.ResetTOTP] and [Service.ListUsers]. They check no
//     password: they are for administrators' tools.
//
// The password checks of RequestEmailChange and DeleteAccount are counted
// and throttled as logins of the account ([ErrInvalidCredentials] for a
// wrong one), so a stolen access token cannot be used to guess it.
//
// Links carry one-time tokens: 256 bits from Config.Rand in unpadded
// base64url, {PublicURL}/verify-email?token=T, /reset-password?token=T and
// /confirm-email?token=T, stored only as their SHA-256 with their purpose,
// user, the address they were sent to and their expiry
// (Config.VerifyEmailTTL 24 hours, Config.ResetPasswordTTL and
// Config.ChangeEmailTTL 1 hour). Each is spent by its first use, atomically
// in the store, and refused once expired; verification and reset links
// work only while the account's email is the address they were sent to.
// Every refusal is [ErrInvalidLink], audited with its reason, never with
// the token. A password change, reset or set deletes the account's
// outstanding reset and email change links. [Service.PruneSessions]
// deletes expired links with expired refresh tokens.
//
// Mail never changes an answer: messages go through a bounded queue,
// drained off the request path, and a failure is audited
// ([EventMailFailed]).
//
// # Two-factor authentication
//
// With a store that implements [MFAStore] and [AccountStore] (every store
// of this module does), each user may turn on TOTP (RFC 6238: SHA1, 6
// digits, 30-second steps, the codes of github.com/pquerna/otp).
// [Service.SetupTOTP], given the password, returns a new 160-bit secret
// as base32, an otpauth URI (labelled with Config.TOTPIssuer) and a QR
// code; [Service.ConfirmTOTP], given a first code, turns it on
// ([User.MFA]) and returns ten recovery codes, shown once.
//
// Login of such a user returns, after a correct password, no Grant but
// an [*MFARequiredError] (wrapping [ErrMFARequired]) with an mfaToken;
// [Service.LoginTOTP] or [Service.LoginRecoveryCode] exchanges it with a
// code for the Grant Login would have returned, and hashes no password.
// The mfaToken lives 5 minutes and is bound to that login: it carries,
// under a MAC keyed by a key derived from Config.Secret, the user and
// the session generation the login read, so a revocation in between
// ends the login (see [SessionStore]); the store keeps its SHA-256 as a
// one-time token that only a successful exchange spends. A wrong code is
// [ErrInvalidCode] and leaves it usable. Users without MFA see no change.
//
// A code is accepted one step either side of the Service's clock, and
// once: the matching step is recorded with the store's compare-and-set
// [MFAStore.UseTOTPStep], so a code, or one of an earlier step, is
// refused on every replica once used. Recovery codes have 120 bits each,
// are kept as HMACs under a key derived from Config.Secret, and are
// spent by their use. Codes at login, confirmation and
// [Service.DisableTOTP] count against the login throttle of the account,
// per client and per account, as passwords do; a right password of a
// login with MFA does not clear the client's count, the completed login
// does. TOTP secrets are sealed with AES-256-GCM under a key derived
// from Config.Secret, with the user ID as additional data: the store
// holds no secret in the clear, and changing Config.Secret disables
// every authenticator and recovery code ([Service.ResetTOTP] turns a
// user's off). A password reset leaves MFA on.
//
// # Passwords
//
// Package [github.com/gatehouse-go/gatehouse/auth/password] does the
// hashing and holds the policy; the Service configures it with
// Config.Params, Config.MaxConcurrentHashes and Config.HashWait.
// Passwords are NFKC-normalised, then hashed with argon2id and stored in
// PHC string form ($argon2id$v=19$m=19456,t=2,p=1$salt$hash) with a 16-byte
// random salt; see [password.DefaultParams]. Comparison is constant-time.
// Parameters decoded from stored hashes are bounds-checked (at most 1 GiB
// of memory, 64 passes, 64 lanes) so a corrupted row cannot exhaust the
// machine, and at most Config.MaxConcurrentHashes hashes run at once;
// beyond that, callers wait up to Config.HashWait and then get [ErrBusy],
// or get it at once when no slot is expected within HashWait. A login
// refused so is refused before its attempt is counted for throttling.
//
// A new password must be at least 8 code points and at most 1024 bytes
// long, differ from the email and the name, and not be on the built-in list
// of 17,950 common passwords (from the MIT-licensed @zxcvbn-ts/language-common
// 4.1.3; compared ignoring case after NFKC). It is never truncated. Login
// applies no policy, so passwords set before a rule existed keep working.
//
// Login does the same hashing work for an unknown email as for a wrong
// password and returns [ErrInvalidCredentials] for both.
//
// Accounts imported from another system ([Service.ImportUser]) may keep
// a bcrypt hash; it is checked as bcrypt checks (the first 72 bytes of the
// password) and replaced with argon2id at the first successful login, as
// is an argon2id hash made with weaker parameters than Config.Params.
//
// # Throttling
//
// Login counts failures per account key, the normalised email, whether or
// not an account has it, in two ways (a [throttle.LoginPolicy],
// configured by Config.LoginThrottle). Per account key and client: after
// 5 consecutive failures from one client, each further attempt of that
// client must wait, 1 second at first, doubling with each failure up to a
// minute, and after 20 the client waits until an hour has passed since
// its last failure; a successful login, or an hour without attempts,
// clears the client's count. Per account key, from all clients together:
// once 100 have failed in one hour of the clock, clients without a device
// token for the account are refused until the hour ends. One client
// cannot reach that limit on its own, so one client hammering an account
// slows only itself; it takes at least five clients together (100 / 20)
// to slow the account for others.
//
// The client is the device of a valid device token for the account, if
// the call carries one ([WithDeviceToken]); otherwise the address the
// front end gave with [WithClientIP] (an IPv4 address, or the /64 network
// of an IPv6 one); calls with neither are all one client, "unknown". A
// device token (OWASP's device cookie) comes with every session that
// Signup and Login return ([Grant.DeviceToken]): an HMAC, under a key
// derived from Config.Secret, of the account key, a random nonce and an
// expiry ([DeviceTokenLifetime], 180 days), kept by no store. A client
// that presents it at its next logins is counted on its own and is not
// refused by the account-wide limit, so the account's owner keeps logging
// in from a device she has used before while strangers guess her
// password. A device token that fails too often is slowed like any
// client.
//
// An attempt refused gets a [*throttle.ThrottledError] (it wraps
// [ErrThrottled] and says how long to wait) before the email is looked up
// or anything is hashed.
//
// The counters are kept by a [throttle.Store] (Config.Attempts): the
// UserStore itself when it has that ability (every store of this module
// does, so replicas on one database share them), otherwise a bounded
// in-memory store ([throttle.NewMemoryStore]). Keys are HMACs under a key
// derived from the secret, so the store holds no email. Throttling fails
// closed: if the counter cannot be read or written, Login fails with that
// error. [Service.NewLimiter] makes a [throttle.Limiter] on the same
// counters for other limits, such as the per-IP limits of package
// httpauth.
//
// # Audit
//
// Every sign-up, duplicate sign-up, login success and failure, throttled
// attempt, rejected token and step of the account flows (see
// [EventKind]) is an [Event], logged through Config.Logger
// (default slog.Default(); failures and throttling at Warn) and passed to
// Config.OnEvent if set. Events carry the account, the normalised email,
// the client's address (see [WithClientIP]) and a fixed reason, never a
// password, hash, token or secret.
//
// # Emails and names
//
// Emails are trimmed, NFKC-normalised and lower-cased, with the domain in
// IDNA Unicode form ([NormalizeEmail]), before they are stored or looked
// up, so uniqueness holds on the normalised form; characters that display
// as nothing or as blank space are refused. Names are trimmed and NFC-normalised, 1 to 100 code
// points without control characters, and not unique.
//
// # Errors
//
// Failures are reported with the sentinels of this package (ErrNotFound,
// ErrDuplicateEmail, ErrInvalidCredentials, ErrInvalidToken,
// ErrTokenExpired, ErrBusy, ErrThrottled, ErrMFARequired,
// ErrInvalidCode, ...), wrapped; test them with
// [errors.Is].
// Invalid input is a [*FieldError] naming the field; it wraps
// [ErrInvalidField].
package auth
