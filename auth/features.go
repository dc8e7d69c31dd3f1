package auth

// Features says which optional flows a [Service] offers, as its Config
// and the abilities of its store decide. A flow it does not offer returns
// an error wrapping errors.ErrUnsupported; package httpauth mounts the
// routes of the flows offered and describes them in its OpenAPI document.
type Features struct {
	// RefreshTokens: Config.RefreshTokens is on, so [Service.Refresh] and
	// [Service.Logout] work.
	RefreshTokens bool

	// Sessions: sessions are tracked (Config.RefreshTokens or
	// Config.CheckRevocation), so [Service.RevokeSessions] works.
	Sessions bool

	// Passwords: the store can change password hashes ([PasswordStore]),
	// so [Service.ChangePassword] works, and with Accounts,
	// [Service.ResetPassword].
	Passwords bool

	// Accounts: the store has the account flows ([AccountStore]), so
	// [Service.UpdateName], [Service.VerifyEmail],
	// [Service.ConfirmEmailChange] and [Service.DeleteAccount] work.
	Accounts bool

	// Mail: a Mailer is configured (Config.Mailer), so, with Accounts,
	// [Service.ResendVerification], [Service.ForgotPassword] and
	// [Service.RequestEmailChange] work.
	Mail bool
}

// Features returns the optional flows that s offers.
func (s *Service) Features() Features {
	return Features{
		RefreshTokens: s.refresh.on,
		Sessions:      s.sessions != nil,
		Passwords:     s.passwords != nil,
		Accounts:      s.accounts != nil,
		Mail:          s.mail != nil,
	}
}
