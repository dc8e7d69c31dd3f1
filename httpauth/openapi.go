package httpauth

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode"
)

// OpenAPI returns the handler of GET {prefix}/openapi.json, for routers
// other than [http.ServeMux]: an OpenAPI 3.1 document of exactly the
// routes that [Handler.Mount] has on under the Handler's configuration
// (see the package documentation), generated from the same table. It
// answers GET and HEAD as application/json with "Cache-Control:
// no-cache" and an ETag, so that clients may keep it and check it is
// current; a request whose If-None-Match has that ETag gets 304. Other
// methods get 405. The document is the same bytes for the same
// configuration.
func (h *Handler) OpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveDoc(w, r, h.openAPIDoc, h.openAPIETag, "application/json", "no-cache")
	})
}

// buildOpenAPI sets the Handler's document and its ETag, from its table.
func (h *Handler) buildOpenAPI() {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(h.openAPIDocument()); err != nil { // only our own fixed types
		panic("httpauth: encoding the OpenAPI document: " + err.Error())
	}
	h.openAPIDoc = buf.Bytes()
	h.openAPIETag = docETag(h.openAPIDoc)
}

// The OpenAPI 3.1 document, as much of it as this package writes. Struct
// fields marshal in their order and maps with sorted keys, so the same
// table gives the same bytes.
type (
	openAPIDoc struct {
		OpenAPI    string                          `json:"openapi"`
		Info       openAPIInfo                     `json:"info"`
		Servers    []openAPIServer                 `json:"servers"`
		Tags       []openAPITag                    `json:"tags"`
		Paths      map[string]map[string]operation `json:"paths"`
		Components components                      `json:"components"`
	}
	openAPIInfo struct {
		Title       string         `json:"title"`
		Version     string         `json:"version"`
		Description string         `json:"description"`
		License     openAPILicense `json:"license"`
	}
	openAPILicense struct {
		Name       string `json:"name"`
		Identifier string `json:"identifier"`
	}
	openAPIServer struct {
		URL         string `json:"url"`
		Description string `json:"description"`
	}
	openAPITag struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	operation struct {
		OperationID string                `json:"operationId"`
		Summary     string                `json:"summary"`
		Tags        []string              `json:"tags"`
		Security    []map[string][]string `json:"security"`
		RequestBody *requestBody          `json:"requestBody,omitempty"`
		Responses   map[string]response   `json:"responses"`
	}
	requestBody struct {
		Required bool                 `json:"required"`
		Content  map[string]mediaType `json:"content"`
	}
	mediaType struct {
		Schema *schema `json:"schema"`
	}
	response struct {
		Description string                `json:"description"`
		Headers     map[string]*schemaRef `json:"headers,omitempty"`
		Content     map[string]mediaType  `json:"content,omitempty"`
	}
	schemaRef struct {
		Ref string `json:"$ref"`
	}
	components struct {
		Schemas         map[string]*schema        `json:"schemas"`
		Headers         map[string]header         `json:"headers"`
		SecuritySchemes map[string]securityScheme `json:"securitySchemes"`
	}
	header struct {
		Description string  `json:"description"`
		Schema      *schema `json:"schema"`
	}
	securityScheme struct {
		Type         string `json:"type"`
		Description  string `json:"description"`
		Scheme       string `json:"scheme,omitempty"`
		BearerFormat string `json:"bearerFormat,omitempty"`
		In           string `json:"in,omitempty"`   // apiKey
		Name         string `json:"name,omitempty"` // apiKey
	}
)

// schema is a JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1), as
// much of it as the document needs.
type schema struct {
	Ref                  string             `json:"$ref,omitempty"`
	Type                 string             `json:"type,omitempty"`
	Description          string             `json:"description,omitempty"`
	Format               string             `json:"format,omitempty"`
	Const                any                `json:"const,omitempty"`
	Enum                 []string           `json:"enum,omitempty"`
	MinLength            int                `json:"minLength,omitempty"`
	MaxLength            int                `json:"maxLength,omitempty"`
	Items                *schema            `json:"items,omitempty"`
	MinItems             int                `json:"minItems,omitempty"`
	MaxItems             int                `json:"maxItems,omitempty"`
	Minimum              *int               `json:"minimum,omitempty"`
	Properties           map[string]*schema `json:"properties,omitempty"`
	Required             []string           `json:"required,omitempty"`
	AdditionalProperties *bool              `json:"additionalProperties,omitempty"`
	AllOf                []*schema          `json:"allOf,omitempty"`
	OneOf                []*schema          `json:"oneOf,omitempty"`
}

// ref is a reference to the schema of components named name.
func ref(name string) *schema { return &schema{Ref: "#/components/schemas/" + name} }

// openAPIDocument returns the document of the routes of the table that
// are on, with the components they use.
func (h *Handler) openAPIDocument() openAPIDoc {
	doc := openAPIDoc{
		OpenAPI: "3.1.0",
		Info: openAPIInfo{
			Title:   "gatehouse authentication",
			Version: "1",
			Description: "Sign-up, login, sessions and the account, served by package httpauth of github.com/gatehouse-go/gatehouse. " +
				"It lists the routes mounted under this server's configuration. " +
				"Requests with a body send one JSON object (Content-Type: application/json) whose members are the listed fields, each a string. " +
				"Errors are RFC 9457 problem details. Every answer of the routes but this document's carries Cache-Control: no-store.",
			License: openAPILicense{Name: "MIT", Identifier: "MIT"},
		},
		Servers: []openAPIServer{{URL: "/", Description: "The server of this document: the paths hold the prefix."}},
		Tags:    []openAPITag{},
		Paths:   map[string]map[string]operation{},
		Components: components{
			Schemas:         map[string]*schema{},
			Headers:         map[string]header{},
			SecuritySchemes: h.securitySchemes(),
		},
	}
	schemas, headers := h.namedSchemas(), h.headerDocs()
	var use func(*schema) // adds the components s refers to
	use = func(s *schema) {
		if s == nil {
			return
		}
		if name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/"); ok {
			if _, done := doc.Components.Schemas[name]; !done {
				doc.Components.Schemas[name] = schemas[name]
				use(schemas[name])
			}
		}
		for _, p := range s.Properties {
			use(p)
		}
		for _, sub := range append(s.AllOf, s.OneOf...) {
			use(sub)
		}
	}
	tags := map[string]bool{}
	for _, rt := range h.table {
		if !rt.on {
			continue
		}
		op := operation{
			OperationID: operationID(rt.method, rt.path),
			Summary:     rt.summary,
			Tags:        []string{rt.tag().Name},
			Security:    h.securityFor(rt.auth),
			Responses:   map[string]response{},
		}
		if t := rt.tag(); !tags[t.Name] {
			tags[t.Name] = true
			doc.Tags = append(doc.Tags, t)
		}
		if rt.request != nil {
			op.RequestBody = &requestBody{Required: true, Content: map[string]mediaType{"application/json": {rt.request}}}
		}
		use(rt.request)
		for _, a := range rt.allAnswers() {
			r := a.response()
			op.Responses[strconv.Itoa(a.status)] = r
			for _, m := range r.Content {
				use(m.Schema)
			}
			for _, name := range a.headers {
				doc.Components.Headers[name] = headers[name]
			}
		}
		p := h.prefix + rt.path
		if doc.Paths[p] == nil {
			doc.Paths[p] = map[string]operation{}
		}
		doc.Paths[p][strings.ToLower(rt.method)] = op
	}
	return doc
}

// response returns the document's response of a.
func (a answer) response() response {
	r := response{Description: a.about}
	for _, name := range a.headers {
		if r.Headers == nil {
			r.Headers = map[string]*schemaRef{}
		}
		r.Headers[name] = &schemaRef{"#/components/headers/" + name}
	}
	switch {
	case len(a.problems) > 0:
		r.Content = map[string]mediaType{"application/problem+json": {&schema{AllOf: []*schema{
			ref("Problem"),
			{Properties: map[string]*schema{
				"type":   {Enum: a.problems},
				"status": {Const: a.status},
			}},
		}}}}
	case a.body != nil:
		r.Content = map[string]mediaType{"application/json": {a.body}}
	}
	return r
}

// operationID names an operation by its method and path: postLogin,
// getMe, postEmailChangeConfirm, getOpenapiJson.
func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	upper := true
	for _, r := range path {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// tag returns the group of the route in the document.
func (rt *route) tag() openAPITag {
	switch {
	case rt.path == "/openapi.json":
		return openAPITag{"meta", "This document."}
	case rt.path == "/me" || rt.path == "/delete" || strings.HasPrefix(rt.path, "/email/") || strings.HasPrefix(rt.path, "/password/"):
		return openAPITag{"account", "The caller's account: profile, email verification, password reset, email change, deletion."}
	default:
		return openAPITag{"session", "Sign-up, login, refresh tokens, logout and password change."}
	}
}

// securitySchemes are the document's security schemes, by name. A
// route's requirements (securityFor) name them: in cookie mode the
// access-token cookie is an alternative to bearer.
func (h *Handler) securitySchemes() map[string]securityScheme {
	schemes := map[string]securityScheme{
		"bearer": {
			Type: "http", Scheme: "bearer", BearerFormat: "JWT",
			Description: "The access token of a sign-up, login or refresh, in Authorization: Bearer.",
		},
	}
	if h.cookies != nil {
		schemes["cookie"] = securityScheme{
			Type: "apiKey", In: "cookie", Name: AccessCookie,
			Description: "The access token in the cookie that sign-up, login and refresh set (HttpOnly, Secure, SameSite=Lax, Path=/), " +
				"read only from a request without an Authorization header; named " + plainAccessCookie + ", without Secure, on plain HTTP to a loopback host. " +
				"A state-changing request it authenticates that a browser sent from another origin than the server's own and the trusted ones is refused (403, " + ProblemCrossOrigin + ").",
		}
	}
	return schemes
}

// securityFor returns the security requirements of a route needing a:
// none (an empty list, which says so), or any one of the schemes.
func (h *Handler) securityFor(a authKind) []map[string][]string {
	switch {
	case a == authNone:
		return []map[string][]string{}
	case h.cookies != nil:
		return []map[string][]string{{"bearer": {}}, {"cookie": {}}}
	}
	return []map[string][]string{{"bearer": {}}}
}

// headerDocs are the response headers that answers list.
func (h *Handler) headerDocs() map[string]header {
	one := 1
	return map[string]header{
		"Retry-After": {
			Description: "Seconds to wait before trying again.",
			Schema:      &schema{Type: "integer", Minimum: &one},
		},
		"WWW-Authenticate": {
			Description: `The RFC 6750 challenge: Bearer realm="api", with error="invalid_token" when a token was sent.`,
			Schema:      &schema{Type: "string"},
		},
		"Set-Cookie": {
			Description: h.setCookieDoc(),
			Schema:      &schema{Type: "string"},
		},
	}
}
