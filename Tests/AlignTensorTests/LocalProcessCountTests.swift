import XCTest
@testable import AlignTensor

/// Compute threads are shared among the ranks an MPI launcher starts on one host.
final class LocalProcessCountTests: XCTestCase {
    func testRanksOnThisHostComeFromTheLaunchersVariables() {
        XCTAssertEqual(localProcessCount([:]), 1)
        XCTAssertEqual(localProcessCount(["OMPI_COMM_WORLD_LOCAL_SIZE": "2"]), 2)
        XCTAssertEqual(localProcessCount(["MPI_LOCALNRANKS": "4"]), 4)
        XCTAssertEqual(localProcessCount(["OMPI_COMM_WORLD_LOCAL_SIZE": "0"]), 1)
        XCTAssertEqual(localProcessCount(["OMPI_COMM_WORLD_LOCAL_SIZE": "two"]), 1)
    }
}
