import UVLoop

/// One entry of a Redis stream: its ID (`1700000000000-0`) and its fields in order.
public struct RedisStreamEntry: Sendable, Hashable {
    /// One field of an entry.
    public struct Field: Sendable, Hashable {
        /// The field's name.
        public let name: String
        /// The field's value.
        public let value: Bytes
    }

    /// The entry's ID, `milliseconds-sequence`.
    public let id: String
    /// The fields, in the order they were added.
    public let fields: [Field]

    /// The value of the first field called `name`, if any.
    public subscript(name: String) -> Bytes? { fields.first { $0.name == name }?.value }

    /// Parses `[id, [name, value, ...]]`; `nil` if the value has another shape.
    init?(_ value: RESPValue) {
        guard let pair = value.array, pair.count == 2, let id = pair[0].string, let flat = pair[1].array, flat.count % 2 == 0 else {
            return nil
        }
        var fields: [Field] = []
        fields.reserveCapacity(flat.count / 2)
        for index in stride(from: 0, to: flat.count, by: 2) {
            guard let name = flat[index].string, let value = flat[index + 1].bytes else { return nil }
            fields.append(Field(name: name, value: value))
        }
        self.id = id
        self.fields = fields
    }
}
