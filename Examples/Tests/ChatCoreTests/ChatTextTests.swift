import ChatCore
import Testing
import UVLoop

@Suite("ChatText")
struct ChatTextTests {
    @Test("a large room's summary says what happened, in grouped numbers, and how many are here")
    func summary() {
        let second = Duration.seconds(1)
        #expect(
            ChatText.summary(joined: 1234, left: 56, present: 19_000, interval: second).string
                == "1,234 joined and 56 left in the last second (19,000 here)\n")
        #expect(ChatText.summary(joined: 7, left: 0, present: 101, interval: second).string == "7 joined in the last second (101 here)\n")
        #expect(
            ChatText.summary(joined: 0, left: 1_000_000, present: 0, interval: .milliseconds(500)).string
                == "1,000,000 left in the last 0.5 seconds (0 here)\n")
    }

    @Test("/who lists everyone in a small room, and the first few and how many more in a large one")
    func who() {
        #expect(ChatText.who(["alice", "bob"], of: 2).string == "In the room (2): alice, bob\n")
        #expect(
            ChatText.who(["alice", "bob"], of: 19_000).string
                == "In the room (19,000): alice, bob and 18,998 more (the first 2 to arrive)\n")
    }
}
