/// permessage-deflate negotiation (RFC 7692 §5, §7.1) over `Sec-WebSocket-Extensions` values.
public enum PerMessageDeflateNegotiation {
    /// One extension offer or answer: its name and its parameters (value nil when absent).
    public struct Extension: Sendable, Equatable {
        /// The extension token, lowercased (`permessage-deflate`).
        public var name: String
        /// The parameters in order, names lowercased; quoted values unquoted.
        public var parameters: [(name: String, value: String?)]

        public static func == (lhs: Extension, rhs: Extension) -> Bool {
            lhs.name == rhs.name && lhs.parameters.elementsEqual(rhs.parameters) { $0.name == $1.name && $0.value == $1.value }
        }
    }

    /// Splits `Sec-WebSocket-Extensions` header values into extensions, in order.
    public static func parse(_ headerValues: [String]) -> [Extension] {
        var result: [Extension] = []
        for value in headerValues {
            for item in value.split(separator: ",") {
                let pieces = item.split(separator: ";").map { $0.trimmingSpaces() }
                guard let name = pieces.first, !name.isEmpty else { continue }
                var parameters: [(name: String, value: String?)] = []
                for piece in pieces.dropFirst() where !piece.isEmpty {
                    if let equals = piece.firstIndex(of: "=") {
                        var parameterValue = String(piece[piece.index(after: equals)...]).trimmingSpaces()
                        if parameterValue.count >= 2 && parameterValue.hasPrefix("\"") && parameterValue.hasSuffix("\"") {
                            parameterValue = String(parameterValue.dropFirst().dropLast())
                        }
                        parameters.append((String(piece[..<equals]).trimmingSpaces().lowercased(), parameterValue))
                    } else {
                        parameters.append((piece.lowercased(), nil))
                    }
                }
                result.append(Extension(name: name.lowercased(), parameters: parameters))
            }
        }
        return result
    }

    /// The server's choice: the first acceptable permessage-deflate offer among `headerValues`,
    /// as (agreed parameters, answer header value), or nil to decline (no offer, or none valid).
    public static func accept(offers headerValues: [String], options: PerMessageDeflateOptions) -> (PerMessageDeflateParameters, String)? {
        for offer in parse(headerValues) where offer.name == "permessage-deflate" {
            if let answer = acceptOne(offer, options: options) { return answer }
        }
        return nil
    }

    private static func acceptOne(_ offer: Extension, options: PerMessageDeflateOptions) -> (PerMessageDeflateParameters, String)? {
        var seen: Set<String> = []
        var parameters = PerMessageDeflateParameters()
        var clientWindowBitsOffered = false
        var clientWindowBits = 15
        for (name, value) in offer.parameters {
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "server_no_context_takeover":
                guard value == nil else { return nil }
                parameters.serverNoContextTakeover = true
            case "client_no_context_takeover":
                guard value == nil else { return nil }
                parameters.clientNoContextTakeover = true
            case "server_max_window_bits":
                guard let bits = windowBits(value) else { return nil }
                parameters.serverMaxWindowBits = bits
            case "client_max_window_bits":
                clientWindowBitsOffered = true
                if let value {
                    guard let bits = windowBits(value) else { return nil }
                    clientWindowBits = bits
                }
            default:
                return nil
            }
        }
        parameters.serverNoContextTakeover = parameters.serverNoContextTakeover || options.serverNoContextTakeover
        parameters.clientNoContextTakeover = parameters.clientNoContextTakeover || options.clientNoContextTakeover
        parameters.serverMaxWindowBits = min(parameters.serverMaxWindowBits, options.serverMaxWindowBits)
        if clientWindowBitsOffered {
            parameters.clientMaxWindowBits = min(clientWindowBits, options.clientMaxWindowBits)
        } else {
            // The client cannot be limited unless it offered client_max_window_bits.
            parameters.clientMaxWindowBits = 15
        }
        var answer = "permessage-deflate"
        if parameters.serverNoContextTakeover { answer += "; server_no_context_takeover" }
        if parameters.clientNoContextTakeover { answer += "; client_no_context_takeover" }
        if parameters.serverMaxWindowBits < 15 || offer.parameters.contains(where: { $0.name == "server_max_window_bits" }) {
            answer += "; server_max_window_bits=\(parameters.serverMaxWindowBits)"
        }
        if clientWindowBitsOffered && parameters.clientMaxWindowBits < 15 {
            answer += "; client_max_window_bits=\(parameters.clientMaxWindowBits)"
        }
        return (parameters, answer)
    }

    /// The client's offer for `options`.
    public static func offer(_ options: PerMessageDeflateOptions) -> String {
        var offer = "permessage-deflate"
        if options.serverNoContextTakeover { offer += "; server_no_context_takeover" }
        if options.clientNoContextTakeover { offer += "; client_no_context_takeover" }
        if options.serverMaxWindowBits < 15 { offer += "; server_max_window_bits=\(options.serverMaxWindowBits)" }
        offer += options.clientMaxWindowBits < 15 ? "; client_max_window_bits=\(options.clientMaxWindowBits)" : "; client_max_window_bits"
        return offer
    }

    /// Checks a server's answer to ``offer(_:)``: nil if it declined, the agreed parameters if
    /// it is valid, and a thrown reason if it is not (the client must then fail the connection).
    public static func checkAnswer(_ headerValues: [String], options: PerMessageDeflateOptions) throws(WebSocketHandshakeError)
        -> PerMessageDeflateParameters?
    {
        let extensions = parse(headerValues)
        if extensions.isEmpty { return nil }
        guard extensions.count == 1, let answer = extensions.first, answer.name == "permessage-deflate" else {
            throw WebSocketHandshakeError(
                "the server answered with extensions that were not offered: \(headerValues.joined(separator: ", "))")
        }
        var parameters = PerMessageDeflateParameters()
        var seen: Set<String> = []
        for (name, value) in answer.parameters {
            guard seen.insert(name).inserted else { throw WebSocketHandshakeError("permessage-deflate parameter \(name) repeated") }
            switch name {
            case "server_no_context_takeover" where value == nil: parameters.serverNoContextTakeover = true
            case "client_no_context_takeover" where value == nil: parameters.clientNoContextTakeover = true
            case "server_max_window_bits":
                guard let bits = windowBits(value), bits <= options.serverMaxWindowBits else {
                    throw WebSocketHandshakeError("invalid server_max_window_bits \(value ?? "")")
                }
                parameters.serverMaxWindowBits = bits
            case "client_max_window_bits":
                guard let bits = windowBits(value) else { throw WebSocketHandshakeError("invalid client_max_window_bits \(value ?? "")") }
                parameters.clientMaxWindowBits = bits
            default:
                throw WebSocketHandshakeError("invalid permessage-deflate parameter \(name)")
            }
        }
        if options.serverNoContextTakeover && !parameters.serverNoContextTakeover {
            throw WebSocketHandshakeError("the server dropped server_no_context_takeover")
        }
        parameters.clientNoContextTakeover = parameters.clientNoContextTakeover || options.clientNoContextTakeover
        parameters.clientMaxWindowBits = min(parameters.clientMaxWindowBits, options.clientMaxWindowBits)
        return parameters
    }

    private static func windowBits(_ value: String?) -> Int? {
        guard let value, let bits = Int(value), (8...15).contains(bits), value.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return bits
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        var characters = Substring(self)
        while let first = characters.first, first == " " || first == "\t" { characters.removeFirst() }
        while let last = characters.last, last == " " || last == "\t" { characters.removeLast() }
        return String(characters)
    }
}
