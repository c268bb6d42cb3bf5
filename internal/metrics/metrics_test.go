package metrics

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"faldone/internal/faldone"
)

type fakeLog struct {
	size    uint64
	sizeErr error
	cp      uint64
	at      time.Time
	cpErr   error
}

func (f *fakeLog) Size(context.Context) (uint64, error) { return f.size, f.sizeErr }
func (f *fakeLog) LatestCheckpoint(context.Context) (uint64, time.Time, error) {
	return f.cp, f.at, f.cpErr
}

// TestWatchLog: the log's gauges at a scrape, before the first checkpoint,
// after one, and when the log cannot be read.
func TestWatchLog(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		log  *fakeLog
		want string
	}{
		{"no checkpoint yet", &fakeLog{size: 3, cpErr: faldone.Errorf(faldone.ENOTFOUND, "none")},
			"faldone_audit_log_leaves 3\nfaldone_audit_log_up 1\n"},
		{"a checkpoint 90 s old", &fakeLog{size: 5, cp: 4, at: now.Add(-90 * time.Second)},
			"faldone_audit_checkpoint_age_seconds 90\nfaldone_audit_checkpoint_leaves 4\nfaldone_audit_checkpoint_timestamp_seconds " +
				strconv.FormatInt(now.Add(-90*time.Second).Unix(), 10) + "\nfaldone_audit_log_leaves 5\nfaldone_audit_log_up 1\n"},
		{"the store is down", &fakeLog{sizeErr: errors.New("down"), cpErr: errors.New("down")},
			"faldone_audit_log_up 0\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New([]string{"adesione"})
			m.WatchLog(tc.log, func() time.Time { return now })
			mfs, err := m.Registry.Gather()
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			for _, mf := range mfs {
				if !strings.HasPrefix(mf.GetName(), "faldone_audit_") {
					continue
				}
				for _, mt := range mf.GetMetric() {
					got.WriteString(mf.GetName() + " " + strconv.FormatFloat(mt.GetGauge().GetValue(), 'f', -1, 64) + "\n")
				}
			}
			if got.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got.String(), tc.want)
			}
		})
	}
}

// TestVerdictsAndArchive: verdicts by door, and versions counted as
// sealed documents or countersignatures.
func TestVerdictsAndArchive(t *testing.T) {
	m := New([]string{"adesione"})
	m.Verified(DoorWeb, true)
	m.Verified(DoorWeb, false)
	m.Verified(DoorAPI, false)
	m.archived(&faldone.Record{Kind: "adesione", Version: 1, Seal: faldone.SealFacts{Level: "B-B", TSAFallback: true}})
	m.archived(&faldone.Record{Kind: "adesione", Version: 2})
	m.archived(&faldone.Record{Kind: "piano", Version: 1})
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"web valid", count(m.verdicts.WithLabelValues(DoorWeb, "valid")), 1},
		{"web not valid", count(m.verdicts.WithLabelValues(DoorWeb, "not_valid")), 1},
		{"api not valid", count(m.verdicts.WithLabelValues(DoorAPI, "not_valid")), 1},
		{"sealed B-B", count(m.sealed.WithLabelValues("adesione", "B-B")), 1},
		{"sealed B-T", count(m.sealed.WithLabelValues("adesione", "B-T")), 0},
		{"fallbacks", count(m.fallbacks.WithLabelValues("adesione")), 1},
		{"countersigned", count(m.countersigned.WithLabelValues("adesione")), 1},
		{"unsealed piano", count(m.sealed.WithLabelValues("piano", "none")), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	var none *Metrics
	none.Verified(DoorAPI, true) // a nil Metrics counts nothing
}

// count reads a counter.
func count(c prometheus.Counter) float64 {
	var d dto.Metric
	if err := c.Write(&d); err != nil {
		panic(err)
	}
	return d.GetCounter().GetValue()
}
