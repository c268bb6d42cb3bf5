//go:build race

package docs_test

// raceEnabled is true when the tests run under the race detector, which
// slows rendering tenfold: the page-reading tests then take a smaller sample.
const raceEnabled = true
