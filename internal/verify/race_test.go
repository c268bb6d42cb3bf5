//go:build race

package verify_test

// raceSlowdown scales the time bounds of the hostile-PDF tests: the race
// detector makes inflating and parsing about ten times slower.
const raceSlowdown = 10
