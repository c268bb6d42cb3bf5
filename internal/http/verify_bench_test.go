package http_test

import (
	"bytes"
	"io"
	"net"
	nethttp "net/http"
	"sync/atomic"
	"testing"
	"time"

	"faldone/internal/testenv"
)

// BenchmarkVerifyAPI measures the throughput of POST /v1/verify under
// concurrent load: clients on keep-alive connections send the sealed B-T
// letter to a real listener on 127.0.0.1, 4 per core.
func BenchmarkVerifyAPI(b *testing.B) {
	tsa, chain := testenv.StartTSA(b)
	e := newVerifyEnv(b, tsa, chain)
	_, pdf := e.sealed(b, "loiano", "adesione")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go e.srv.App().Listener(ln)
	url := "http://" + ln.Addr().String() + "/v1/verify"
	client := &nethttp.Client{Timeout: 30 * time.Second, Transport: &nethttp.Transport{MaxIdleConnsPerHost: 64}}
	defer func() { // each round ends its server and connections
		client.CloseIdleConnections()
		_ = e.srv.App().Shutdown()
	}()
	post := func() error {
		resp, err := client.Post(url, "application/pdf", bytes.NewReader(pdf))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"valid":true`)) {
			b.Errorf("status %d: %.300s", resp.StatusCode, body)
		}
		return nil
	}
	if err := post(); err != nil {
		b.Fatal(err)
	}
	var failed atomic.Int64
	b.SetBytes(int64(len(pdf)))
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := post(); err != nil {
				failed.Add(1)
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d requests failed", n)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
}
