/// What parsing a head found, as positions in its bytes: an ``HTTPRawHead`` without the
/// bytes, so that a head can be parsed before it is taken out of the buffer it lies in.
struct HTTPHeadLayout {
    /// Requests: the method is `0..<methodEnd`. Responses: 0.
    var methodEnd = 0
    /// Where the first field line starts (past the start line's CRLF); see ``HTTPRawHead``
    /// for the parts of the start line found from it.
    var fieldsStart: Int
    var fieldCount = 0
    /// The head's length, through its empty line.
    var count = 0
    var status = 0
    var version: HTTPVersion
    var framing = HTTPBodyFraming.none
    var isKeepAlive = false
    var expectsContinue = false
}
