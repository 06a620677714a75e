package ferretdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/segura-community/terraform-provider-segura/internal/testcert"
)

// Options configures a FerretDB server.
type Options struct {
	// Dir holds the SQLite data, the log file and TLS material. Required.
	Dir string
	// AdminUsername and AdminPassword create the first user in the admin
	// database. The password defaults to a random one.
	AdminUsername, AdminPassword string
	// TLS adds a second, TLS-only listener whose certificate is issued by a
	// throw-away CA written to Dir/mongodb-ca.pem.
	TLS bool
	// StartTimeout bounds how long Start waits for the server to accept a
	// SCRAM login. Default 60s.
	StartTimeout time.Duration
}

// Server is a running FerretDB process listening on loopback.
type Server struct {
	opts    Options
	bin     string
	port    int
	tlsPort int
	caFile  string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd exits
}

// Start builds FerretDB if needed, starts it on free loopback ports with the
// SQLite backend, SCRAM authentication and empty data, and returns once the
// admin user can log in.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("ferretdb: Options.Dir is required")
	}
	if opts.AdminUsername == "" {
		opts.AdminUsername = "segura-admin"
	}
	if opts.AdminPassword == "" {
		opts.AdminPassword = randomPassword()
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	// A fresh server starts from empty data: users left by an earlier run
	// would carry that run's random admin password, which this one cannot
	// log in with. Restart keeps the data.
	if err := os.RemoveAll(filepath.Join(opts.Dir, "data")); err != nil {
		return nil, fmt.Errorf("clear FerretDB data left by an earlier run: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "data"), 0o700); err != nil {
		return nil, fmt.Errorf("create FerretDB data directory: %w", err)
	}
	bin, err := Binary(ctx)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, bin: bin}
	if opts.TLS {
		if err := s.writeTLSFiles(); err != nil {
			return nil, err
		}
	}
	// A port picked free can be taken by someone else before FerretDB binds
	// it; pick again a few times rather than fail the whole test package.
	for attempt := 0; ; attempt++ {
		if s.port, err = freePort(); err != nil {
			return nil, err
		}
		if opts.TLS {
			if s.tlsPort, err = freePort(); err != nil {
				return nil, err
			}
		}
		err = s.start(ctx)
		if err == nil || attempt == 2 || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// URI is the plain-TCP connection string, without credentials.
func (s *Server) URI() string {
	return fmt.Sprintf("mongodb://127.0.0.1:%d/", s.port)
}

// TLSURI is the TLS listener's connection string (empty without Options.TLS).
// Clients must trust CAFile.
func (s *Server) TLSURI() string {
	if s.tlsPort == 0 {
		return ""
	}
	return fmt.Sprintf("mongodb://localhost:%d/?tls=true", s.tlsPort)
}

// CAFile is the PEM file of the CA that issued the TLS listener's certificate.
func (s *Server) CAFile() string { return s.caFile }

// AdminUsername is the user created in the admin database at first start.
func (s *Server) AdminUsername() string { return s.opts.AdminUsername }

// AdminPassword is that user's password.
func (s *Server) AdminPassword() string { return s.opts.AdminPassword }

// LogFile is where FerretDB writes its log.
func (s *Server) LogFile() string { return filepath.Join(s.opts.Dir, "ferretdb.log") }

// Stop shuts the server down with SIGTERM, and kills it if it has not exited
// after 10 seconds. Stopping a stopped server is a no-op.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked()
}

// Restart stops the server and starts it again on the same ports with the
// same data, as a database restart would.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.start(ctx)
}

// Running reports whether the server process is alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Pid is the server process's id, 0 when it is not running; a Restart
// changes it.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	select {
	case <-s.done:
		return 0
	default:
		return s.cmd.Process.Pid
	}
}

func (s *Server) start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("ferretdb: already running")
	}
	logFile, err := os.OpenFile(s.LogFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open FerretDB log: %w", err)
	}
	args := []string{
		"--handler=sqlite",
		"--sqlite-url=file:" + filepath.Join(s.opts.Dir, "data") + "/",
		"--state-dir=" + s.opts.Dir,
		"--listen-addr=127.0.0.1:" + strconv.Itoa(s.port),
		"--debug-addr=-",         // no HTTP debug listener
		"--telemetry=disable",    // never call home: these machines have no network
		"--test-enable-new-auth", // real SCRAM users (createUser / updateUser)
		"--setup-database=admin",
		"--log-level=warn",
	}
	if s.tlsPort != 0 {
		args = append(args,
			"--listen-tls=127.0.0.1:"+strconv.Itoa(s.tlsPort),
			"--listen-tls-cert-file="+filepath.Join(s.opts.Dir, "mongodb-server.pem"),
			"--listen-tls-key-file="+filepath.Join(s.opts.Dir, "mongodb-server-key.pem"),
		)
	}
	cmd := exec.Command(s.bin, args...)
	// Credentials through the environment, not argv, so `ps` does not show them.
	cmd.Env = append(os.Environ(),
		"FERRETDB_SETUP_USERNAME="+s.opts.AdminUsername,
		"FERRETDB_SETUP_PASSWORD="+s.opts.AdminPassword,
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // a Ctrl-C in the terminal reaches us, and we stop it in order
		Pdeathsig: syscall.SIGTERM, // never outlive a test binary that was killed
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start FerretDB: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(done)
	}()
	s.cmd, s.done = cmd, done

	if err := s.waitReady(ctx, done); err != nil {
		_ = s.stopLocked()
		return err
	}
	return nil
}

// waitReady polls until the admin user can authenticate with SCRAM and run
// ping: that proves the listener, the backend and the setup user are ready.
func (s *Server) waitReady(ctx context.Context, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.StartTimeout)
	defer cancel()
	var lastErr error
	for {
		select {
		case <-exited:
			return fmt.Errorf("FerretDB exited during start-up; see %s", s.LogFile())
		default:
		}
		if lastErr = s.ping(ctx); lastErr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("FerretDB did not accept an admin login within %s (last error: %v); see %s", s.opts.StartTimeout, lastErr, s.LogFile())
		case <-exited:
			return fmt.Errorf("FerretDB exited during start-up; see %s", s.LogFile())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *Server) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	client, err := mongo.Connect(options.Client().
		ApplyURI(s.URI()).
		SetAuth(options.Credential{Username: s.opts.AdminUsername, Password: s.opts.AdminPassword, AuthSource: "admin"}).
		SetServerSelectionTimeout(time.Second).
		SetConnectTimeout(time.Second))
	if err != nil {
		return err
	}
	defer client.Disconnect(context.Background()) //nolint:errcheck // best effort on a probe client
	return client.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
}

func (s *Server) stopLocked() error {
	if s.cmd == nil {
		return nil
	}
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	select {
	case <-done:
		return nil
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return nil
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("FerretDB did not stop within 10s of SIGTERM and was killed; see %s", s.LogFile())
	}
}

func (s *Server) writeTLSFiles() error {
	ca, err := testcert.NewCA("segura local MongoDB CA", 30*24*time.Hour)
	if err != nil {
		return err
	}
	leaf, err := ca.LoopbackServerCert(30 * 24 * time.Hour)
	if err != nil {
		return err
	}
	s.caFile = filepath.Join(s.opts.Dir, "mongodb-ca.pem")
	if err := ca.WriteCertFile(s.caFile); err != nil {
		return err
	}
	return leaf.WriteFiles(filepath.Join(s.opts.Dir, "mongodb-server.pem"), filepath.Join(s.opts.Dir, "mongodb-server-key.pem"))
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer ln.Close()
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("find a free loopback port: unexpected address %v", ln.Addr())
	}
	return addr.Port, nil
}

func randomPassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
