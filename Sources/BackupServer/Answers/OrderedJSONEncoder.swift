import Backup
import Foundation
import Hummingbird

/// The server's `ResponseEncoder`: answer types are `Encodable`, and their keys come out in
/// the order `encode(to:)` writes them (the guide's order; a test pins the prune answer's
/// prefix). Foundation's `JSONEncoder` on Linux orders keys by hash, so the value is built as
/// an ordered `JSONValue` and rendered by it.
struct OrderedJSONEncoder: ResponseEncoder {
    func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        try Self.response(value)
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.cacheControl] = "no-store"
        let text = try render(value) + "\n"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func render(_ value: some Encodable) throws -> String {
        let root = JSONNode()
        try value.encode(to: JSONNodeEncoder(node: root, codingPath: []))
        return root.value.rendered
    }
}

/// A JSON value under construction: objects keep their fields in insertion order.
private final class JSONNode {
    enum Content { case empty, scalar(JSONValue), object([(String, JSONNode)]), array([JSONNode]) }
    var content = Content.empty

    var value: JSONValue {
        switch content {
        case .empty: .object([])
        case .scalar(let v): v
        case .object(let fields): .object(fields.map { ($0.0, $0.1.value) })
        case .array(let items): .array(items.map(\.value))
        }
    }

    func field(_ key: String) -> JSONNode {
        var fields: [(String, JSONNode)] = []
        if case .object(let existing) = content { fields = existing }
        if let found = fields.first(where: { $0.0 == key }) { return found.1 }
        let node = JSONNode()
        fields.append((key, node))
        content = .object(fields)
        return node
    }

    func element() -> JSONNode {
        var items: [JSONNode] = []
        if case .array(let existing) = content { items = existing }
        let node = JSONNode()
        items.append(node)
        content = .array(items)
        return node
    }

    func beObject() { if case .object = content {} else { content = .object([]) } }
    func beArray() { if case .array = content {} else { content = .array([]) } }

    /// Strings, booleans and integers are written directly; anything else encodes itself here.
    func put<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws {
        switch value {
        case let s as String: content = .scalar(.string(s))
        case let b as Bool: content = .scalar(.bool(b))
        case let n as any BinaryInteger:
            guard let wide = Int64(exactly: n) else {
                throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "integer out of range"))
            }
            content = .scalar(.int(wide))
        case is Double, is Float:
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "answers carry no floating-point numbers"))
        default:
            try value.encode(to: JSONNodeEncoder(node: self, codingPath: codingPath))
        }
    }
}

private struct JSONNodeEncoder: Encoder {
    let node: JSONNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.beObject()
        return KeyedEncodingContainer(Keyed<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.beArray()
        return Unkeyed(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { Single(node: node, codingPath: codingPath) }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let node: JSONNode
        let codingPath: [any CodingKey]
        mutating func encodeNil(forKey key: Key) throws { node.field(key.stringValue).content = .scalar(.null) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try add(value, key) }
        private func add<T: Encodable>(_ value: T, _ key: Key) throws {
            try node.field(key.stringValue).put(value, codingPath: codingPath + [key])
        }
        // The protocol names each primitive; all go the same way.
        mutating func encode(_ value: Bool, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: String, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: Double, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: Float, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: Int, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { try add(value, key) }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            JSONNodeEncoder(node: node.field(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            JSONNodeEncoder(node: node.field(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
        }
        mutating func superEncoder() -> any Encoder { JSONNodeEncoder(node: node.field("super"), codingPath: codingPath) }
        mutating func superEncoder(forKey key: Key) -> any Encoder {
            JSONNodeEncoder(node: node.field(key.stringValue), codingPath: codingPath + [key])
        }
    }

    struct Unkeyed: UnkeyedEncodingContainer, ForwardsPrimitives {
        let node: JSONNode
        let codingPath: [any CodingKey]
        var count: Int {
            if case .array(let items) = node.content { return items.count }
            return 0
        }
        mutating func encodeNil() throws { node.element().content = .scalar(.null) }
        mutating func encode<T: Encodable>(_ value: T) throws { try add(value) }
        func add<T: Encodable>(_ value: T) throws { try node.element().put(value, codingPath: codingPath) }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            JSONNodeEncoder(node: node.element(), codingPath: codingPath).container(keyedBy: keyType)
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            JSONNodeEncoder(node: node.element(), codingPath: codingPath).unkeyedContainer()
        }
        mutating func superEncoder() -> any Encoder { JSONNodeEncoder(node: node.element(), codingPath: codingPath) }
    }

    struct Single: SingleValueEncodingContainer, ForwardsPrimitives {
        let node: JSONNode
        let codingPath: [any CodingKey]
        mutating func encodeNil() throws { node.content = .scalar(.null) }
        mutating func encode<T: Encodable>(_ value: T) throws { try add(value) }
        func add<T: Encodable>(_ value: T) throws { try node.put(value, codingPath: codingPath) }
    }
}

/// The unkeyed and single-value containers name each primitive; all go through `add`.
private protocol ForwardsPrimitives {
    func add<T: Encodable>(_ value: T) throws
}

extension ForwardsPrimitives {
    mutating func encode(_ value: Bool) throws { try add(value) }
    mutating func encode(_ value: String) throws { try add(value) }
    mutating func encode(_ value: Double) throws { try add(value) }
    mutating func encode(_ value: Float) throws { try add(value) }
    mutating func encode(_ value: Int) throws { try add(value) }
    mutating func encode(_ value: Int8) throws { try add(value) }
    mutating func encode(_ value: Int16) throws { try add(value) }
    mutating func encode(_ value: Int32) throws { try add(value) }
    mutating func encode(_ value: Int64) throws { try add(value) }
    mutating func encode(_ value: UInt) throws { try add(value) }
    mutating func encode(_ value: UInt8) throws { try add(value) }
    mutating func encode(_ value: UInt16) throws { try add(value) }
    mutating func encode(_ value: UInt32) throws { try add(value) }
    mutating func encode(_ value: UInt64) throws { try add(value) }
}

/// Keys known only at run time (object metadata).
struct DynamicKey: CodingKey {
    let stringValue: String
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}
