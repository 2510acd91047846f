#if !os(Linux)
// The stages call Glibc directly (flock, O_NOFOLLOW, fsync, signal handling); nothing else is
// tested. Fail at the first module rather than with a hundred missing-symbol errors.
#error("Backstream builds on Linux only (see README.md, Requirements)")
#endif
