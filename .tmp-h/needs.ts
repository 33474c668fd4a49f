import "/work/main/src/platform/nodeShim.ts";
const { nowhereTight } = await import("/work/main/experiments/paper01/nowhereTight.ts");
const { fantasticZoo } = await import("/work/main/experiments/benchmarks/fantasticZoo.ts");
console.log(nowhereTight.needs[0].met({ netTrain: 0 }), nowhereTight.needs[0].met({ netTrain: 100 }), fantasticZoo.needs[0].met({ task: "synthetic" }), fantasticZoo.needs[0].met({ task: "fmnist" }));
