import ChatCore
import Testing

/// A stand-in for a connection: the roster needs an object that keeps its index.
private final class Member: RosterMember {
    let number: Int
    var rosterIndex: Int?
    init(_ number: Int) { self.number = number }
}

@Suite("Roster")
struct RosterTests {
    @Test("19,000 members all leaving at once cost at most one move each, in any order")
    func massDeparture() {
        let count = 19_000
        for order in ["arrival", "reverse", "shuffled"] {
            let members = (0..<count).map(Member.init)
            var roster = Roster<Member, Int>()
            for member in members { roster.insert(member, member.number) }
            var departures = members
            switch order {
            case "reverse": departures.reverse()
            case "shuffled":
                var generator = SplitMix(seed: 7)
                departures.shuffle(using: &generator)
            default: break
            }
            var removed = 0
            for member in departures {
                let wasPresent = roster.remove(member)
                #expect(wasPresent)
                removed += 1
                // Everyone still present is still found with their own companion.
                if removed % 4_750 == 0 {
                    let present = Set(departures[removed...].map(ObjectIdentifier.init))
                    #expect(Set(roster.elements.map(ObjectIdentifier.init)) == present)
                    #expect(roster.elements.allSatisfy { roster.companion(of: $0) == $0.number })
                }
            }
            // A linear search and array removal would shift ~n²/2 = 180 million elements here.
            #expect(roster.moves <= count, "\(order): \(roster.moves) moves for \(count) departures")
            #expect(roster.count == 0 && roster.elements.isEmpty)
        }
    }

    @Test("inserting twice or removing an absent member changes nothing")
    func idempotence() {
        let (a, b) = (Member(1), Member(2))
        var roster = Roster<Member, String>()
        let outcomes = [
            roster.insert(a, "a"), !roster.insert(a, "again"), !roster.remove(b), roster.insert(b, nil), roster.remove(a),
            !roster.remove(a),
        ]
        #expect(outcomes == Array(repeating: true, count: 6))
        #expect(roster.elements.map(\.number) == [2] && roster.contains(b) && !roster.contains(a))
        #expect(roster.contains(b) && roster.companion(of: b) == nil && roster.companion(of: a) == nil)
        #expect(roster.allCompanions == [nil])
        let everyone = roster.removeAll()
        #expect(everyone.elements.map(\.number) == [2] && roster.count == 0 && !roster.contains(b))
    }
}

/// A seeded generator, so the shuffled order is the same on every run.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
