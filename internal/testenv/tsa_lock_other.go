//go:build !unix

package testenv

// lockMachineWide is a no-op where file locks are not available.
func lockMachineWide(string) (func(), error) { return func() {}, nil }
