/// When a write may happen, checked by the store atomically with the write itself, so two
/// writers racing for one key cannot both win.
package enum WriteCondition: Sendable, Equatable {
    /// Always write (replace whatever is there).
    case none
    /// Only if no object exists at the key (S3 `If-None-Match: *`).
    case ifAbsent
    /// Only if the object at the key still has this ETag (S3 `If-Match`).
    case ifMatch(String)

    /// The S3 header that carries the condition.
    var header: (String, String)? {
        switch self {
        case .none: return nil
        case .ifAbsent: return ("If-None-Match", "*")
        case .ifMatch(let etag): return ("If-Match", etag)
        }
    }
}
