package netsim

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TURN ports of the coturn on pub.
const (
	TURNPort    = 3478
	TURNTLSPort = 5349
)

// TURN is a coturn running in pub on PubIP with REST (use-auth-secret) credentials.
type TURN struct {
	Secret string
	// CAFile is the PEM certificate of its TLS port (self-signed for PubIP and
	// "turn.test"); "" without TLS.
	CAFile  string
	LogFile string
}

// StartTURN runs coturn in pub (with a TLS port when tls is set) until tb ends. It skips
// tb when coturn is not installed, except under CI.
func (n *Net) StartTURN(tb testing.TB, secret string, tls bool) *TURN {
	tb.Helper()
	if _, err := exec.LookPath("turnserver"); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal("netsim: coturn is not installed (run scripts/setup.sh)")
		}
		tb.Skip("netsim: coturn is not installed (run scripts/setup.sh)")
	}
	dir := tb.TempDir()
	logDir := os.Getenv("NATTEST_LOGDIR") // keeps the log (debugging)
	if logDir == "" {
		logDir = dir
	}
	t := &TURN{Secret: secret, LogFile: filepath.Join(logDir, "turn.log")}
	args := []string{"-n", "--listening-ip=" + PubIP, "--relay-ip=" + PubIP,
		"--listening-port=" + strconv.Itoa(TURNPort), "--use-auth-secret", "--static-auth-secret=" + secret,
		"--realm=test", "-v", "--no-cli", "--no-dtls", "--allow-loopback-peers",
		"--userdb=" + filepath.Join(dir, "turndb"), "--pidfile=" + filepath.Join(dir, "turn.pid"),
		"--log-file=" + t.LogFile, "--simple-log", "--no-stdout-log",
		"--min-port=49152", "--max-port=49999"}
	if tls {
		cert, key := filepath.Join(dir, "turn.crt"), filepath.Join(dir, "turn.key")
		if err := writeCert(cert, key); err != nil {
			tb.Fatal(err)
		}
		t.CAFile = cert
		args = append(args, "--tls-listening-port="+strconv.Itoa(TURNTLSPort), "--cert="+cert, "--pkey="+key)
	} else {
		args = append(args, "--no-tls")
	}
	cmd := n.Command(n.Pub, "turnserver", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tb.Fatalf("netsim: start coturn: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }() // ends when coturn exits (cleanup kills it)
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if tb.Failed() {
			b, _ := os.ReadFile(t.LogFile)
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			tb.Logf("coturn log:\n%s", b)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	dial := Dialer(n.Pub)
	ports := []int{TURNPort}
	if tls {
		ports = append(ports, TURNTLSPort)
	}
	for _, p := range ports {
		for {
			c, err := dial(ctx, "tcp", net.JoinHostPort(PubIP, strconv.Itoa(p)))
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-done:
				tb.Fatalf("netsim: coturn exited: %s", out.String())
			case <-ctx.Done():
				tb.Fatalf("netsim: coturn did not come up on port %d: %v", p, err)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return t
}

// Credentials are REST credentials valid for ttl: username "expiry:user", password
// base64(HMAC-SHA1(secret, username)).
func Credentials(secret, user string, ttl time.Duration) (username, password string) {
	username = fmt.Sprintf("%d:%s", time.Now().Add(ttl).Unix(), user)
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(username))
	return username, base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func writeCert(certFile, keyFile string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("netsim: key: %w", err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "turn.test"},
		DNSNames:              []string{"turn.test"},
		IPAddresses:           []net.IP{net.ParseIP(PubIP)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("netsim: certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("netsim: key: %w", err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("netsim: write certificate: %w", err)
	}
	// coturn may drop privileges: the key must be readable by it.
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o644); err != nil {
		return fmt.Errorf("netsim: write key: %w", err)
	}
	return nil
}
