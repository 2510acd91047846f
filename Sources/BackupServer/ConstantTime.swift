/// Secret comparison whose time depends only on the lengths, never on where the bytes differ.
enum ConstantTime {
    static func equals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt64(x.count ^ y.count)
        for i in 0..<max(x.count, y.count) {
            let l = i < x.count ? x[i] : 0, r = i < y.count ? y[i] : 0
            difference |= UInt64(l ^ r)
        }
        return difference == 0
    }

    /// Whether `candidate` equals any of `secrets`, comparing against all of them.
    static func matchesAny(_ candidate: String, _ secrets: [String]) -> Int? {
        var found: Int?
        for (index, secret) in secrets.enumerated() where equals(candidate, secret) {
            if found == nil { found = index }
        }
        return found
    }
}
