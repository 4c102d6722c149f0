package localstack

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rolegate/rolegate/internal/cognito"
	"github.com/rolegate/rolegate/internal/local/mint"
)

// Issuer is the local stand-in for a Cognito user pool: a signing key, a pool
// ID and an app client ID of the usual shapes. It is persisted (IssuerFile) so
// that `rolegate-local token` in another terminal signs with the key the
// running stack trusts.
type Issuer struct {
	Key      *mint.PrivateKey
	PoolID   string
	ClientID string
	// JWKSPort is where the key set is served, kept across runs so the
	// authorizer's JWKS_URL stays the same.
	JWKSPort int
}

// IssuerFile is where LoadIssuer keeps the issuer, under the state directory.
const IssuerFile = "issuer.json"

type issuerJSON struct {
	Key      json.RawMessage `json:"key"` // the private JWK
	PoolID   string          `json:"poolId"`
	ClientID string          `json:"clientId"`
	JWKSPort int             `json:"jwksPort"`
}

// NewIssuer makes an issuer with a fresh 2048-bit key and random IDs of
// Cognito's shapes: <region>_<9 alphanumerics> and 26 lower-case
// alphanumerics.
func NewIssuer() (*Issuer, error) {
	k, err := mint.GenerateKey("", 0)
	if err != nil {
		return nil, err
	}
	return &Issuer{
		Key:      k,
		PoolID:   Deployment.Region + "_" + rand.Text()[:9],
		ClientID: strings.ToLower(rand.Text()),
	}, nil
}

// LoadIssuer reads the issuer kept in dir, creating and saving a new one when
// there is none.
func LoadIssuer(dir string) (*Issuer, error) {
	path := filepath.Join(dir, IssuerFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		iss, err := NewIssuer()
		if err != nil {
			return nil, err
		}
		return iss, iss.Save(dir)
	}
	if err != nil {
		return nil, err
	}
	var j issuerJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("%s: %w (delete it to start afresh)", path, err)
	}
	k, err := mint.ParsePrivateKey(j.Key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (delete it to start afresh)", path, err)
	}
	if !cognito.ValidPoolID(j.PoolID) || j.ClientID == "" {
		return nil, fmt.Errorf("%s: pool or client missing (delete it to start afresh)", path)
	}
	return &Issuer{Key: k, PoolID: j.PoolID, ClientID: j.ClientID, JWKSPort: j.JWKSPort}, nil
}

// Save writes the issuer to dir with owner-only permissions: it holds a
// private key, even if only a local one.
func (i *Issuer) Save(dir string) error {
	k, err := mint.MarshalPrivateKey(i.Key)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(issuerJSON{Key: k, PoolID: i.PoolID, ClientID: i.ClientID, JWKSPort: i.JWKSPort}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp := filepath.Join(dir, IssuerFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, IssuerFile))
}

// URL is the issuer the authorizer expects in iss, the pool's Cognito URL.
func (i *Issuer) URL() string { return cognito.Issuer(i.PoolID) }

// JWKSPath is where Cognito publishes the pool's keys, relative to the host.
func (i *Issuer) JWKSPath() string {
	u, err := url.Parse(cognito.JWKSURL(i.URL()))
	if err != nil {
		return "" // unreachable: a valid pool id makes a valid URL
	}
	return u.Path
}

// Mint signs claims as the pool does: RS256 with the pool's key, header
// {"kid","alg"} and no "typ", like Cognito's tokens.
func (i *Issuer) Mint(claims map[string]any) (string, error) {
	return mint.Sign(i.Key, claims, map[string]any{"typ": nil})
}

// JWKSServer serves the issuer's key set on loopback.
type JWKSServer struct {
	// URL is the full key set URL (the authorizer's JWKS_URL).
	URL string
	srv *http.Server
}

// ServeJWKS serves the key set on 127.0.0.1:i.JWKSPort, or on a free port
// (saved back to i.JWKSPort) when that is zero or taken.
func (i *Issuer) ServeJWKS() (*JWKSServer, error) {
	set, err := mint.MarshalSet(i.Key)
	if err != nil {
		return nil, err
	}
	var l net.Listener
	if i.JWKSPort != 0 {
		l, _ = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(i.JWKSPort))
	}
	if l == nil {
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("jwks server: %w", err)
		}
		i.JWKSPort = l.Addr().(*net.TCPAddr).Port
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+i.JWKSPath(), func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(set)
	})
	s := &JWKSServer{
		URL: "http://" + l.Addr().String() + i.JWKSPath(),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
	}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

// Close stops the server.
func (s *JWKSServer) Close() error { return shutdown(s.srv) }
