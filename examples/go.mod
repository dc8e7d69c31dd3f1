module github.com/gatehouse-go/gatehouse/examples

go 1.26.0

replace github.com/gatehouse-go/gatehouse => ..

replace github.com/gatehouse-go/gatehouse/mail/smtpmail => ../mail/smtpmail

replace github.com/gatehouse-go/gatehouse/store/mysqlstore => ../store/mysqlstore

replace github.com/gatehouse-go/gatehouse/store/pgstore => ../store/pgstore

replace github.com/gatehouse-go/gatehouse/store/sqlitestore => ../store/sqlitestore

require (
	github.com/chromedp/cdproto v0.160.1
	github.com/chromedp/chromedp v0.23.1
	github.com/gatehouse-go/gatehouse v0.0.0-00010101000000-000000000000
	github.com/gatehouse-go/gatehouse/mail/smtpmail v0.0.0-00010101000000-000000000000
	github.com/gatehouse-go/gatehouse/store/mysqlstore v0.0.0-00010101000000-000000000000
	github.com/gatehouse-go/gatehouse/store/pgstore v0.0.0-00010101000000-000000000000
	github.com/gatehouse-go/gatehouse/store/sqlitestore v0.0.0-00010101000000-000000000000
	github.com/go-sql-driver/mysql v1.10.1
	github.com/jackc/pgx/v5 v5.12.0
	modernc.org/sqlite v1.62.0
)

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect
	github.com/dustin/go-humanize v1.1.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/ncruces/go-strftime v1.1.0 // indirect
	github.com/pquerna/otp v1.5.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	github.com/wneessen/go-mail v0.8.1 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	modernc.org/libc v1.80.1 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
)
