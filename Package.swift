// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "align",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "align", targets: ["align"]),
        .library(name: "AlignTensor", targets: ["AlignTensor"]),
        .library(name: "AlignNN", targets: ["AlignNN"]),
        .library(name: "AlignData", targets: ["AlignData"]),
        .library(name: "AlignTraining", targets: ["AlignTraining"]),
        .library(name: "IFEval", targets: ["IFEval"]),
        .library(name: "SFTTrainer", targets: ["SFTTrainer"]),
        .library(name: "RewardTrainer", targets: ["RewardTrainer"]),
        .library(name: "DPOTrainer", targets: ["DPOTrainer"]),
        .library(name: "AlignOnline", targets: ["AlignOnline"]),
        .library(name: "PPOTrainer", targets: ["PPOTrainer"]),
        .library(name: "BoNTrainer", targets: ["BoNTrainer"]),
        .library(name: "OnlineDPOTrainer", targets: ["OnlineDPOTrainer"]),
        .library(name: "HPATrainer", targets: ["HPATrainer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]
        ),
        // small C kernels with AVX-512 paths chosen at run time (few-row products for decoding)
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "AlignTensor", dependencies: ["CBLAS", "CKernels"]),
        .target(name: "AlignNN", dependencies: ["AlignTensor"]),
        .target(name: "AlignData", dependencies: ["AlignTensor"]),
        // IFEval's verifiable instructions and their checks (text only; used by eval and rewards)
        .target(name: "IFEval"),
        .target(name: "AlignTraining", dependencies: ["AlignTensor", "AlignNN", "AlignData", "IFEval", "CMPI"]),
        .target(name: "SFTTrainer", dependencies: ["AlignTraining"]),
        .target(name: "RewardTrainer", dependencies: ["AlignTraining"]),
        .target(name: "DPOTrainer", dependencies: ["AlignTraining"]),
        // the layer under the online trainers: prompts, sampling, rewards, the reference, the
        // sharded rollout, the clip loss and advantages
        .target(name: "AlignOnline", dependencies: ["AlignTraining"]),
        .target(name: "PPOTrainer", dependencies: ["AlignOnline"]),
        .target(name: "BoNTrainer", dependencies: ["AlignOnline", "SFTTrainer"]),
        .target(name: "HPATrainer", dependencies: ["AlignOnline", "DPOTrainer"]),
        .target(name: "OnlineDPOTrainer", dependencies: ["AlignOnline", "DPOTrainer"]),
        .executableTarget(
            name: "align",
            dependencies: [
                "AlignTensor", "AlignNN", "AlignData", "AlignTraining", "SFTTrainer", "RewardTrainer", "DPOTrainer", "AlignOnline", "PPOTrainer", "BoNTrainer",
                "HPATrainer", "OnlineDPOTrainer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "AlignTensorTests",
            dependencies: ["AlignTensor"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "AlignNNTests",
            dependencies: ["AlignNN", "AlignData"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "AlignTrainingTests",
            dependencies: ["AlignTraining"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "SFTTrainerTests",
            dependencies: ["SFTTrainer"]
        ),
        .testTarget(
            name: "RewardTrainerTests",
            dependencies: ["RewardTrainer"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "DPOTrainerTests",
            dependencies: ["DPOTrainer"],
            resources: [.copy("Fixtures")]
        ),
        // tiny models and data the trainer tests share (no product; only tests depend on it)
        .target(name: "AlignTestSupport", dependencies: ["AlignTraining"], path: "Tests/Support"),
        .testTarget(
            name: "PPOTrainerTests",
            dependencies: ["AlignOnline", "PPOTrainer", "BoNTrainer", "AlignTestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "HPATrainerTests",
            dependencies: ["HPATrainer", "AlignTestSupport"]
        ),
        .testTarget(
            name: "OnlineDPOTrainerTests",
            dependencies: ["OnlineDPOTrainer", "AlignTestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "AlignCLITests",
            dependencies: ["align"]
        ),
        .testTarget(
            name: "IFEvalTests",
            dependencies: ["IFEval"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "AlignDataTests",
            dependencies: ["AlignData"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
