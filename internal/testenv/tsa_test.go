package testenv

import (
	"bytes"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTSAIsolated runs two timestamp-servers at once, checks that each
// answers through its 127.0.0.1 proxy while all its processes live in a
// network namespace other than the test's, and that Stop leaves nothing
// running and the URL refusing connections.
func TestTSAIsolated(t *testing.T) {
	var wg sync.WaitGroup
	tsas := make([]*TSA, 2)
	for i := range tsas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tsas[i] = NewTSA(t)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	hostNet, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	for i, tsa := range tsas {
		if !strings.HasPrefix(tsa.URL, "http://127.0.0.1:") || !strings.HasSuffix(tsa.URL, TSAPath) {
			t.Errorf("tsa %d: url %q", i, tsa.URL)
		}
		if len(tsa.Chain) == 0 {
			t.Errorf("tsa %d: empty chain", i)
		}
		// A malformed request still goes through the proxy and gets an
		// answer from timestamp-server.
		resp, err := tsaClient.Post(tsa.URL, "application/timestamp-query", bytes.NewReader([]byte("x")))
		if err != nil {
			t.Fatalf("tsa %d: post: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("tsa %d: malformed query accepted", i)
		}
		pids := groupPIDs(t, tsa.cmd.Process.Pid)
		names := map[string]bool{}
		for _, pid := range pids {
			comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
			name := strings.TrimSpace(string(comm))
			names[name] = true
			if name == "unshare" {
				continue // unshare itself stays in the test's namespace
			}
			ns, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/net")
			if err != nil {
				continue // gone meanwhile
			}
			if ns == hostNet {
				t.Errorf("tsa %d: %s (pid %d) runs in the host network namespace", i, name, pid)
			}
		}
		if !names["timestamp-serve"] || !names["socat"] {
			t.Errorf("tsa %d: processes %v, want timestamp-server and socat", i, names)
		}
	}

	first := tsas[0]
	pids := groupPIDs(t, first.cmd.Process.Pid)
	first.Stop()
	first.Stop()
	if resp, err := tsaClient.Get(first.URL + "/certchain"); err == nil {
		resp.Body.Close()
		t.Errorf("stopped TSA still answers: %s", resp.Status)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("pid %d still running after Stop", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// The other one is unaffected.
	if _, err := fetchChain(t.Context(), tsas[1].URL+"/certchain"); err != nil {
		t.Errorf("second TSA after stopping the first: %v", err)
	}
}

// TestStartTSAShared checks that StartTSA hands the tests of a process the
// same server.
func TestStartTSAShared(t *testing.T) {
	url1, chain1 := StartTSA(t)
	url2, chain2 := StartTSA(t)
	if url1 != url2 || !chain1[0].Equal(chain2[0]) {
		t.Errorf("not shared: %s %s", url1, url2)
	}
}

// groupPIDs lists the processes of process group pgid.
func groupPIDs(t *testing.T, pgid int) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := statFields(pid); len(f) > 2 && f[2] == strconv.Itoa(pgid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// statFields returns the fields of /proc/PID/stat after the command name:
// state, ppid, pgrp, ...
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	f := statFields(pid)
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}
