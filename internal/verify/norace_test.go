//go:build !race

package verify_test

// raceSlowdown scales the time bounds of the hostile-PDF tests; 1 without
// the race detector.
const raceSlowdown = 1
