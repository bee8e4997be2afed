#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Routes requests by method and path to handlers; paths may hold parameters (`:id`) and end
/// in a wildcard (`*`).
///
/// ```swift
/// var router = Router()
/// router.get("/") { _, _ in .text("hello\n") }
/// router.get("/users/:id") { _, context in .text("user \(context.parameters["id"] ?? "")\n") }
/// router.post("/echo") { request, _ in
///     HTTPServerResponse(status: .ok) { body in
///         for try await chunk in request.body { try await body.write(chunk) }
///     }
/// }
/// let server = HTTPServer(router: router)
/// ```
///
/// A path that matches with another method answers 405 with `Allow`; no match, ``notFound``.
/// `HEAD` falls back to the `GET` route (the server sends no body).
public struct Router {
    /// A handler of routed requests.
    public typealias Handler = HTTPServer.Handler

    private enum Segment {
        case literal(Substring)
        case parameter(String)
        case wildcard
    }

    private struct Route {
        let method: HTTPRequest.Method
        let segments: [Segment]
        let handler: Handler
    }

    /// Routes without parameters, by path.
    private var exact: [Substring: [Route]] = [:]
    /// The same routes, with their paths as bytes: while they are few, a request's path is
    /// compared with each (no `String`, no hashing). Empty past ``maxListedPaths``.
    private var exactList: [(path: [UInt8], routes: [Route])] = []
    private static let maxListedPaths = 16
    private var patterns: [Route] = []

    /// Answers requests no route matches (default: 404, `not found`).
    public var notFound: Handler = { _, _ in .text("not found\n", status: .notFound) }

    /// A router with no routes.
    public init() {}

    /// Routes `method` requests for `path` to `handler`.
    public mutating func on(_ method: HTTPRequest.Method, _ path: String, use handler: @escaping Handler) {
        let segments: [Segment] = path.split(separator: "/").map { part in
            if part == "*" { return .wildcard }
            if part.first == ":" { return .parameter(String(part.dropFirst())) }
            return .literal(part)
        }
        let route = Route(method: method, segments: segments, handler: handler)
        let isExact = segments.allSatisfy { if case .literal = $0 { true } else { false } }
        if isExact {
            let key = Self.normalized(path)
            exact[Substring(key), default: []].append(route)
            exactList = exact.count > Self.maxListedPaths ? [] : exact.map { (Array($0.key.utf8), $0.value) }
        } else {
            patterns.append(route)
        }
    }

    /// Routes `GET` requests for `path`.
    public mutating func get(_ path: String, use handler: @escaping Handler) { on(.get, path, use: handler) }
    /// Routes `POST` requests for `path`.
    public mutating func post(_ path: String, use handler: @escaping Handler) { on(.post, path, use: handler) }
    /// Routes `PUT` requests for `path`.
    public mutating func put(_ path: String, use handler: @escaping Handler) { on(.put, path, use: handler) }
    /// Routes `PATCH` requests for `path`.
    public mutating func patch(_ path: String, use handler: @escaping Handler) { on(.patch, path, use: handler) }
    /// Routes `DELETE` requests for `path`.
    public mutating func delete(_ path: String, use handler: @escaping Handler) { on(.delete, path, use: handler) }

    private static func normalized(_ path: String) -> String {
        "/" + path.split(separator: "/").joined(separator: "/")
    }

    /// Answers `request` with the matching route's handler.
    public func handle(_ request: HTTPServerRequest, context: HTTPRequestContext) async throws -> HTTPServerResponse {
        let (handler, context) = resolve(request, context: context)
        return try await handler(request, context)
    }

    /// The handler for `request` and the context to call it with (path parameters added).
    /// Not async, so the server can call the handler itself, without `handle`'s frame and the
    /// executor checks at its entry and after the handler returns.
    func resolve(_ request: HTTPServerRequest, context: HTTPRequestContext) -> (Handler, HTTPRequestContext) {
        let method = request.method
        if !exactList.isEmpty, let index = request.withPathBytes({ exactIndex(of: $0) }),
            let pick = Self.pick(exactList[index].routes, method: method)
        {
            return (exactList[index].routes[pick].handler, context)
        }
        let path = request.path
        var allowed: [HTTPRequest.Method] = []
        if let routes = exact[path]
            ?? (path.contains("//") || (path.count > 1 && path.hasSuffix("/")) ? exact[Substring(Self.normalized(String(path)))] : nil)
        {
            if let index = Self.pick(routes, method: method) { return (routes[index].handler, context) }
            allowed += routes.map(\.method)
        }
        let parts = path.split(separator: "/")
        var matches: [Route] = []
        var contexts: [HTTPRequestContext] = []
        for route in patterns {
            var matched = context
            if Self.match(route.segments, parts, into: &matched.parameters) {
                matches.append(route)
                contexts.append(matched)
                allowed.append(route.method)
            }
        }
        if let index = Self.pick(matches, method: method) { return (matches[index].handler, contexts[index]) }
        if allowed.isEmpty { return (notFound, context) }
        let allow = allowed.map(\.rawValue).joined(separator: ", ")
        return ({ _, _ in Self.methodNotAllowed(allow: allow) }, context)
    }

    /// The position in ``exactList`` of `path`, compared byte for byte; nil leaves the request
    /// to the general search (which also normalises the path).
    private func exactIndex(of path: UnsafeRawBufferPointer) -> Int? {
        for index in exactList.indices {
            // Force-unwraps: both buffers hold the same count of bytes, more than zero.
            let found = exactList[index].path.withUnsafeBytes { candidate in
                candidate.count == path.count && (path.count == 0 || memcmp(candidate.baseAddress!, path.baseAddress!, path.count) == 0)
            }
            if found { return index }
        }
        return nil
    }

    private static func methodNotAllowed(allow: String) -> HTTPServerResponse {
        var fields = HTTPFields()
        fields[.allow] = allow
        fields[.contentType] = "text/plain; charset=utf-8"
        return HTTPServerResponse(status: .methodNotAllowed, headerFields: fields, body: "method not allowed\n")
    }

    /// The index of the route for `method` (for `HEAD`, else the first `GET` one). Not generic,
    /// and it copies no route: it runs for every request.
    private static func pick(_ routes: [Route], method: HTTPRequest.Method) -> Int? {
        var fallback: Int?
        for index in routes.indices {
            let candidate = routes[index].method
            if candidate == method { return index }
            if method == .head && candidate == .get && fallback == nil { fallback = index }
        }
        return fallback
    }

    private static func match(_ segments: [Segment], _ parts: [Substring], into parameters: inout HTTPPathParameters) -> Bool {
        var index = 0
        for segment in segments {
            switch segment {
            case .wildcard:
                return true
            case .literal(let literal):
                guard index < parts.count, parts[index] == literal else { return false }
            case .parameter(let name):
                guard index < parts.count else { return false }
                parameters.append(name, parts[index])
            }
            index += 1
        }
        return index == parts.count
    }
}
