package auth

import (
	"context"
	"time"
)

// User is an account as a [UserStore] keeps it.
type User struct {
	// ID is the user's opaque, immutable identifier, chosen by the Service
	// (32 lower-case hex digits) and written into tokens as userId and sub.
	ID string
	// Email is the normalised address (see [NormalizeEmail]). Stores compare
	// it byte for byte; it is unique among users.
	Email string
	// Name is the display name, trimmed and NFC-normalised. Not unique.
	Name string
	// PasswordHash is the argon2id hash in PHC string form. The Service
	// clears it in every User it hands back to callers.
	PasswordHash string
	// CreatedAt is when the account was created (the Service's clock),
	// kept by stores to at least microsecond precision.
	CreatedAt time.Time
	// EmailVerified reports whether the user proved to own Email, by a
	// link sent to it. It is false for a new account and after an email
	// change until confirmed.
	EmailVerified bool
	// Disabled reports whether an operator disabled the account
	// ([Service.DisableUser]): it cannot log in or refresh.
	Disabled bool
	// MFA reports whether the user has a confirmed TOTP authenticator
	// ([Service.ConfirmTOTP]): Login then asks for a second factor. It is
	// false for a new account. Stores keep it with the user (a column of
	// the users' row), so that Login reads nothing more for it; only an
	// [MFAStore]'s ConfirmTOTP and DeleteTOTP change it, and a store
	// without that ability may ignore it.
	MFA bool
}

// UserStore persists users. Implementations must be safe for concurrent
// use. The Service hands them only validated, normalised values; a store
// must keep every string byte for byte and compare emails byte for byte.
//
// Errors are reported with this package's sentinels so that callers can use
// [errors.Is] whatever the store:
//   - a lookup that matches nothing returns an error wrapping [ErrNotFound];
//   - CreateUser returns one wrapping [ErrDuplicateEmail] when the email is
//     taken (also when the ID is taken too), and stores nothing. Uniqueness
//     must be enforced by the store itself (a unique index, not a read
//     before the write), so that of any number of concurrent CreateUser
//     calls for one email exactly one succeeds;
//   - CreateUser with an ID already taken (and a free email) fails with an
//     error that does not wrap ErrDuplicateEmail, and overwrites nothing;
//   - a call whose ctx is cancelled or past its deadline returns an error
//     wrapping ctx.Err(), and a cancelled CreateUser stores nothing.
//
// A value the store cannot hold exactly (too long, a time out of its
// range) is an error, never silently altered. Any other failure is
// returned as is; the Service wraps it and never shows
// it to end users. CreatedAt may come back in another location (UTC, say)
// but must be the same instant to the microsecond, including times before
// 1970 and after 2038.
//
// The package storetest (store/storetest) checks all of this; every store
// should run it in its tests.
type UserStore interface {
	// CreateUser stores u, whose ID and Email are not yet taken.
	CreateUser(ctx context.Context, u User) error
	// UserByEmail returns the user with the given normalised email.
	UserByEmail(ctx context.Context, email string) (User, error)
	// UserByID returns the user with the given ID.
	UserByID(ctx context.Context, id string) (User, error)
}

// PasswordStore is the optional [UserStore] ability to change a stored
// password hash, which [Service.ChangePassword] needs and Login uses to
// upgrade hashes made with weaker parameters (or bcrypt) to the current
// ones. Every store of this module implements it.
type PasswordStore interface {
	// UpdatePasswordHash sets the password hash of the user with ID id to
	// newHash if it is oldHash, compared byte for byte, atomically (a
	// compare-and-set, so that an upgrade after a login cannot undo a
	// concurrent password change); newHash equal to oldHash is no error.
	// If no user has that ID, or its hash is not oldHash, it changes
	// nothing and returns an error wrapping [ErrNotFound]. A call whose
	// ctx is done returns an error wrapping ctx.Err() and changes nothing.
	UpdatePasswordHash(ctx context.Context, id, oldHash, newHash string) error
}

// AccountStore is the optional [UserStore] ability behind the account
// flows: one-time tokens (email verification, password reset, email
// change), profile and email changes, disabling, deletion and listing
// users. Every store of this module implements it.
//
// Lookups and updates of a user that does not exist return an error
// wrapping [ErrNotFound]; a call whose ctx is done returns an error
// wrapping ctx.Err() and changes nothing.
type AccountStore interface {
	// UpdateName sets the name of the user with ID id.
	UpdateName(ctx context.Context, id, name string) error

	// UpdateEmail sets the email of the user with ID id to email and its
	// EmailVerified to verified, provided its email is current, compared
	// byte for byte, atomically (a compare-and-set, so that a link sent
	// to an address the account no longer has does nothing): otherwise
	// it changes nothing and returns an error wrapping [ErrNotFound].
	// email equal to current only sets EmailVerified. An email taken by
	// another user is an error wrapping [ErrDuplicateEmail], enforced by
	// the store's unique index as in CreateUser.
	UpdateEmail(ctx context.Context, id, current, email string, verified bool) error

	// SetDisabled sets the Disabled flag of the user with ID id.
	SetDisabled(ctx context.Context, id string, disabled bool) error

	// DeleteUser deletes the user with ID id, with its refresh tokens,
	// session generation and one-time tokens, in one atomic step. Once it
	// returns, SessionGeneration for id returns an error wrapping
	// [ErrNotFound], and the email is free for CreateUser.
	DeleteUser(ctx context.Context, id string) error

	// ListUsers returns at most limit users (limit ≥ 1) whose IDs are
	// greater than after, byte for byte, in increasing order of ID: ""
	// starts from the first. A page shorter than limit is the last.
	ListUsers(ctx context.Context, after string, limit int) ([]User, error)

	// CreateOneTimeToken stores t. A token with t.Hash already stored is
	// an error (the hashes are of 256 random bits: it does not happen).
	// A user that does not exist is an error wrapping [ErrNotFound].
	CreateOneTimeToken(ctx context.Context, t OneTimeToken) error

	// UseOneTimeToken deletes the token with this hash, if its Purpose is
	// purpose, and returns it as it was, whether or not it has expired,
	// atomically: of any number of concurrent calls for one token, on any
	// number of replicas, exactly one gets it, and the others an error
	// wrapping [ErrNotFound], as for a token that is unknown or of
	// another purpose (which stays).
	UseOneTimeToken(ctx context.Context, hash, purpose string) (OneTimeToken, error)

	// DeleteOneTimeTokens deletes every token of the user with ID userID
	// of the purpose. None is not an error.
	DeleteOneTimeTokens(ctx context.Context, userID, purpose string) error

	// DeleteExpiredOneTimeTokens deletes the tokens whose ExpiresAt is not
	// after now and returns how many it deleted.
	DeleteExpiredOneTimeTokens(ctx context.Context, now time.Time) (int64, error)
}

// OneTimeToken is a single-use token as an [AccountStore] keeps it: its
// hash, never the token itself, which is mailed as a link.
type OneTimeToken struct {
	// Hash identifies the token: 64 lower-case hex digits, the SHA-256 of
	// the token in the link. Unique.
	Hash string
	// Purpose is what the token is for: "verify_email", "reset_password",
	// "change_email" or, for the mfaToken between the two steps of a
	// login with two-factor authentication, "mfa_login" (at most 32 ASCII
	// characters; stores keep it opaque).
	Purpose string
	// UserID is the account it acts on.
	UserID string
	// Email is the normalised address the link was sent to: for an email
	// change, the new one.
	Email string
	// CreatedAt and ExpiresAt bound its life, to the microsecond.
	CreatedAt time.Time
	ExpiresAt time.Time
}

// RefreshToken is a refresh token as a [SessionStore] keeps it: its hash,
// never the token itself.
type RefreshToken struct {
	// Hash identifies the token: 64 lower-case hex digits, the SHA-256 of
	// the token the client holds. Unique.
	Hash string
	// Family is the session the token belongs to: 32 lower-case hex
	// digits shared by the chain of tokens that one sign-up or login
	// started, each the successor of the one before.
	Family string
	// UserID is the account of the session.
	UserID string
	// IssuedAt and ExpiresAt bound the token's life.
	IssuedAt  time.Time
	ExpiresAt time.Time
	// UsedAt is when the token was first used (and so rotated); zero
	// while it is unused.
	UsedAt time.Time
	// RevokedAt is when the token's family was revoked; zero while the
	// family is live. Stores report the family's state here: it is not a
	// property of one token.
	RevokedAt time.Time
}

// SessionStore is the optional [UserStore] ability behind refresh
// tokens, logout and the revocation of every session of a user (see
// Config.RefreshTokens and Config.CheckRevocation). Every store of this
// module implements it.
//
// Each user has a session generation, a counter that starts at 0 and
// that RevokeSessions increments. A session belongs to the generation
// under which its login read the account: the Service reads the
// generation before the password hash it checks, creates the session's
// tokens only under that generation, and writes it into the access
// tokens (Claims.Generation). So a revocation ends every login that read
// the account before it, whatever the timing: such a login's tokens are
// refused by the store (CreateRefreshToken) or, once created, revoked
// with the rest, and its access tokens are of an older generation. The
// store enforces this with CreateRefreshToken's check, which must be
// atomic with respect to RevokeSessions on every replica.
//
// Times are kept to at least microsecond precision, like User.CreatedAt.
// Lookups that match nothing return an error wrapping [ErrNotFound]; a
// call whose ctx is done returns an error wrapping ctx.Err() and changes
// nothing. A family exists from its first token until
// DeleteExpiredRefreshTokens deletes its last; all its tokens have the
// same UserID.
type SessionStore interface {
	// CreateRefreshToken stores t, whose UsedAt and RevokedAt are zero
	// (the store may ignore them), creating its family if it is the first
	// token of it, provided the user t.UserID exists and its session
	// generation is generation, checked atomically with RevokeSessions
	// (of a CreateRefreshToken and a RevokeSessions for one user,
	// concurrent on any replicas, either the token is created first and
	// its family then revoked, or the token is refused). If the user does
	// not exist it stores nothing and returns an error wrapping
	// [ErrNotFound]; if its generation is another, an error wrapping
	// [ErrSessionsRevoked]. Otherwise, if a token with t.Hash exists
	// already, it changes nothing and returns nil: the Service may create
	// a token's successor more than once.
	CreateRefreshToken(ctx context.Context, t RefreshToken, generation int64) error

	// UseRefreshToken marks the token with this hash used at now, if it
	// is unused, whether or not it has expired or its family is revoked,
	// and returns it as it was before the call, with its family's
	// RevokedAt. So UsedAt is zero in the result only for the
	// call that used the token: of any number of concurrent calls for one
	// token, on any number of replicas, exactly one sees it zero.
	UseRefreshToken(ctx context.Context, hash string, now time.Time) (RefreshToken, error)

	// RefreshToken returns the token with this hash, with its family's
	// RevokedAt, changing nothing.
	RefreshToken(ctx context.Context, hash string) (RefreshToken, error)

	// RevokeFamily revokes the family at now, unless it is revoked
	// already (then its RevokedAt stays). Revoking a family that has no
	// token is not an error, and records nothing.
	RevokeFamily(ctx context.Context, family string, now time.Time) error

	// RevokeSessions revokes every live family of the user at now (as
	// RevokeFamily) and increments the user's session generation, in one
	// atomic step. Families the user starts afterwards, under the new
	// generation, are live.
	RevokeSessions(ctx context.Context, userID string, now time.Time) error

	// SessionGeneration returns the user's session generation: the
	// number of RevokeSessions calls for the user, 0 if none; an error
	// wrapping [ErrNotFound] if the user does not exist.
	SessionGeneration(ctx context.Context, userID string) (int64, error)

	// DeleteExpiredRefreshTokens deletes the tokens whose ExpiresAt is
	// not after now, and the families left without tokens, and returns
	// how many tokens it deleted. It may work in batches: a ctx done
	// midway leaves the batches done so far deleted (they are expired
	// rows), and the count says how many.
	DeleteExpiredRefreshTokens(ctx context.Context, now time.Time) (int64, error)
}

// MFAStore is the optional [UserStore] ability behind TOTP two-factor
// authentication ([Service.SetupTOTP] and the rest). Every store of this
// module implements it; the Service also needs [AccountStore] for it.
//
// A user has at most one TOTP enrolment, unconfirmed from PutTOTP until
// ConfirmTOTP, and a set of recovery-code hashes. The enrolment's secret
// is sealed by the Service (AES-256-GCM, keyed by a key the store never
// sees): opaque bytes that the store keeps byte for byte. Recovery codes
// are given as hashes: 64 lower-case hex digits, kept and compared byte
// for byte.
//
// Lookups and updates for a user or an enrolment that does not exist
// return an error wrapping [ErrNotFound]; a call whose ctx is done
// returns an error wrapping ctx.Err() and changes nothing. Each call is
// atomic; the compare-and-set ones (ConfirmTOTP, UseTOTPStep,
// UseRecoveryCode) must be atomic on every replica sharing the store, as
// UseOneTimeToken is: a single UPDATE or DELETE with the condition in its
// WHERE clause and RowsAffected, say, never a read and then a write.
// [AccountStore.DeleteUser] also deletes the user's enrolment and
// recovery codes.
type MFAStore interface {
	// PutTOTP stores an unconfirmed enrolment of the user with ID userID
	// with the sealed secret (which the store copies), LastStep 0 and
	// CreatedAt now, replacing an unconfirmed one. If the user has a
	// confirmed enrolment it changes nothing and returns an error
	// wrapping [ErrMFAEnabled]; if the user does not exist, one wrapping
	// [ErrNotFound]. It leaves User.MFA and recovery codes as they are.
	PutTOTP(ctx context.Context, userID string, sealed []byte, now time.Time) error

	// TOTP returns the enrolment of the user with ID userID, confirmed
	// or not, or an error wrapping [ErrNotFound] if it has none.
	TOTP(ctx context.Context, userID string) (TOTP, error)

	// ConfirmTOTP confirms the user's enrolment, provided it is
	// unconfirmed and its sealed secret is sealed, compared byte for byte
	// (so that a code checked against one setup never confirms another
	// that replaced it meanwhile), and in the same atomic step sets the
	// enrolment's LastStep to step, sets User.MFA, and replaces the
	// user's recovery codes with recoveryHashes (distinct). Otherwise, or
	// if there is no enrolment, it changes nothing and returns an error
	// wrapping [ErrNotFound]: of concurrent calls for one enrolment, on
	// any replicas, at most one succeeds.
	ConfirmTOTP(ctx context.Context, userID string, sealed []byte, step int64, recoveryHashes []string) error

	// UseTOTPStep sets the LastStep of the user's enrolment to step,
	// provided step is greater than it, atomically (a compare-and-set):
	// of concurrent calls for one user and one step, on any replicas,
	// exactly one succeeds. The others, a step not greater than LastStep
	// and a user without an enrolment get an error wrapping
	// [ErrNotFound] and change nothing. This is what refuses a replayed
	// code.
	UseTOTPStep(ctx context.Context, userID string, step int64) error

	// UseRecoveryCode deletes the user's recovery code with this hash,
	// atomically: of concurrent calls for one code, on any replicas,
	// exactly one succeeds, and the others, like a hash the user does
	// not have, get an error wrapping [ErrNotFound].
	UseRecoveryCode(ctx context.Context, userID, hash string) error

	// DeleteTOTP deletes the user's enrolment, confirmed or not, and
	// recovery codes, and clears User.MFA, in one atomic step. A user
	// without an enrolment is no error; a user that does not exist is
	// an error wrapping [ErrNotFound].
	DeleteTOTP(ctx context.Context, userID string) error
}

// TOTP is a TOTP enrolment as an [MFAStore] keeps it.
type TOTP struct {
	// Sealed is the shared secret, sealed by the Service: opaque bytes
	// (at most 64), kept byte for byte.
	Sealed []byte
	// Confirmed reports whether a first code confirmed the enrolment
	// ([MFAStore.ConfirmTOTP]); an unconfirmed one is a setup in
	// progress and logs nobody in.
	Confirmed bool
	// LastStep is the last time step (Unix time / 30 s) whose code was
	// accepted, 0 if none: codes of that step and earlier are refused.
	LastStep int64
	// CreatedAt is when PutTOTP stored the enrolment, to the microsecond.
	CreatedAt time.Time
}
