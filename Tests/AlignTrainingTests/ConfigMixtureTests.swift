import XCTest
@testable import AlignTraining

/// `data.train` as a mixture: weights, progress schedules (linear between points) and their checks.
final class ConfigMixtureTests: XCTestCase {
    func testScheduleIsLinearBetweenPointsAndConstantOutside() throws {
        let config = try RunConfig.load(file: ConfigFixtures.directory.appendingPathComponent("pretrain-mixture.json"),
                                        trainer: SFTConfig.schema)
        let sources = config.data.train
        XCTAssertTrue(config.data.isMixture)
        XCTAssertEqual(sources.map(\.path), [ConfigFixtures.path("data/web.jsonl"), ConfigFixtures.path("data/train.jsonl")])
        XCTAssertEqual(sources[0].weight(atProgress: 0.9), 1)
        let instruct = sources[1]
        XCTAssertEqual(instruct.weightSchedule?.count, 3)
        XCTAssertEqual(instruct.weight(atProgress: 0), 0)
        XCTAssertEqual(instruct.weight(atProgress: 0.5), 0)
        XCTAssertEqual(instruct.weight(atProgress: 0.85), 0.25, accuracy: 1e-12)
        XCTAssertEqual(instruct.weight(atProgress: 1), 0.5)
        XCTAssertEqual(config.epochs, 2.5)
        XCTAssertEqual(config.data.evalFraction, 0.1)
        let step = DataSource(path: "x", weightSchedule: [.init(progress: 0.5, weight: 0), .init(progress: 0.5, weight: 1)])
        XCTAssertEqual(step.weight(atProgress: 0.4), 0)
        XCTAssertEqual(step.weight(atProgress: 0.6), 1)
    }

    func testMixtureItemsAreCheckedOneByOne() {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {
            "train": [
              {"path": "data/web.jsonl", "weigth": 2},
              {"weight": 1},
              {"path": "data/train.jsonl", "weight_schedule": [[0, 1], [1.5, 0]]},
              {"path": "data/train.jsonl", "weight_schedule": [[0.5, 1], [0.2, 0]]},
              {"path": "data/train.jsonl", "weight_schedule": [[0, -1]]},
              {"path": "data/train.jsonl", "weight_schedule": [0.5]},
              "data/eval.jsonl"
            ]
          },
          "output_dir": "out/run"
        }
        """
        XCTAssertEqual(configErrors(text), [
            #"run.json:5: unknown key "data.train[0].weigth"; did you mean "data.train[0].weight"?"#,
            #"run.json:6: missing required key "data.train[1].path": A JSONL file."#,
            #"run.json:7: data.train[2].weight_schedule[1]: progress must be in [0, 1], got 1.5"#,
            #"run.json:8: data.train[3].weight_schedule[1]: progress 0.2 comes after 0.5; points must be in increasing progress order"#,
            #"run.json:9: data.train[4].weight_schedule[0]: value must be >= 0, got -1"#,
            #"run.json:10: data.train[5].weight_schedule[0]: expected a [progress, value] pair of numbers, got 0.5"#,
            #"run.json:11: data.train[6]: expected an object, got the string "data/eval.jsonl""#,
        ])
    }

    func testEmptyMixtureAndWrongKind() {
        XCTAssertEqual(configErrors(minimalSFT, overrides: ["data.train=[]"]),
                       ["--set data.train=[]: data.train: the list is empty"])
        XCTAssertEqual(configErrors(minimalSFT, overrides: ["data.train={}"]),
                       ["--set data.train={}: data.train: expected a path (a string) or a list of objects, got an object"])
    }
}
