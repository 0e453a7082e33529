using System.Globalization;

namespace LMIndexer.Core.Data.Synthetic;

/// <summary>
/// Generates a catalog whose structure a text-reading recommender can learn and popularity cannot:
/// items belong to department/leaf categories and brands with category-specific words; every item
/// has a few co-purchase partners (usually in a related leaf); users have favourite leaves and
/// brands, and each next event follows the previous item (co-purchase, same leaf) more often than
/// chance. Deterministic for a seed.
/// </summary>
public static class SyntheticCatalogGenerator
{
    /// <summary>The whole catalog in memory (tests, the demo).</summary>
    public static Catalog Generate(SyntheticCatalogOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var items = new List<CatalogItem>(options.Items);
        var users = new List<UserSequence>(options.Users);
        Write(options, items.Add, users.Add);
        return new Catalog(items, users);
    }

    /// <summary>
    /// The same catalog, handed out one item and then one user at a time, so a million-item catalog
    /// is written without holding it: what stays in memory is a few numbers per item (its leaf,
    /// brand, popularity and co-purchase partners), about 40 bytes.
    /// </summary>
    public static void Write(SyntheticCatalogOptions options, Action<CatalogItem> onItem, Action<UserSequence> onUser)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(onItem);
        ArgumentNullException.ThrowIfNull(onUser);
        options.Validate();
        var random = new Random(options.Seed);
        var brands = MakeBrands(random, options.BrandsPerDepartment);
        var leaves = SyntheticVocabulary.Departments
            .SelectMany((d, di) => d.Leaves.Select((l, li) => (Department: di, Leaf: li)))
            .ToArray();

        // Items: spread over leaves, each with a brand of its department and a Zipf-like popularity.
        var itemLeaf = new int[options.Items];
        var itemBrand = new int[options.Items];
        var popularity = new double[options.Items];
        for (var i = 0; i < options.Items; i++)
        {
            var leafIndex = i < leaves.Length ? i : random.Next(leaves.Length);
            var (di, li) = leaves[leafIndex];
            var department = SyntheticVocabulary.Departments[di];
            var leaf = department.Leaves[li];
            var brand = random.Next(brands[di].Length);
            itemLeaf[i] = leafIndex;
            itemBrand[i] = di * 1000 + brand;
            popularity[i] = 1.0 / Math.Pow(1 + random.Next(options.Items), 0.8);
            onItem(MakeItem(random, i, department, leaf, brands[di][brand]));
        }

        var byLeaf = Enumerable.Range(0, leaves.Length).Select(l => new List<int>()).ToArray();
        for (var i = 0; i < options.Items; i++)
            byLeaf[itemLeaf[i]].Add(i);
        var siblingsOf = Enumerable.Range(0, leaves.Length)
            .Select(leaf => Enumerable.Range(0, leaves.Length).Where(l => leaves[l].Department == leaves[leaf].Department && byLeaf[l].Count > 0).ToArray())
            .ToArray();

        // Co-purchase partners: mostly in a sibling leaf of the same department (shampoo → conditioner).
        var partners = new int[options.Items][];
        for (var i = 0; i < options.Items; i++)
        {
            var siblings = siblingsOf[itemLeaf[i]];
            partners[i] = [.. Enumerable.Range(0, 3).Select(_ =>
            {
                var leaf = siblings[random.Next(siblings.Length)];
                var pool = byLeaf[leaf];
                return pool[random.Next(pool.Count)];
            }).Where(p => p != i).Distinct()];
        }

        // Weighted draws from a leaf (or a leaf's brand) are binary searches over running sums, so
        // a draw costs log(pool) and a million-item catalog's users take seconds, not hours.
        var leafPools = byLeaf.Select(pool => new WeightedPool(pool, popularity)).ToArray();
        var brandPools = new Dictionary<(int Leaf, int Brand), WeightedPool>();
        for (var l = 0; l < byLeaf.Length; l++)
        {
            foreach (var group in byLeaf[l].GroupBy(i => itemBrand[i]))
                brandPools[(l, group.Key)] = new WeightedPool([.. group], popularity);
        }
        var popularOrder = Enumerable.Range(0, options.Items).OrderByDescending(i => popularity[i]).ToArray();
        var everyItem = new WeightedPool(popularOrder, popularity);
        var sequence = new List<int>(options.MaxSequenceLength);
        for (var u = 0; u < options.Users; u++)
        {
            var favouriteLeaves = new[] { random.Next(leaves.Length), random.Next(leaves.Length) };
            var length = random.Next(options.MinSequenceLength, options.MaxSequenceLength + 1);
            sequence.Clear();
            var current = (byLeaf[favouriteLeaves[0]].Count > 0 ? leafPools[favouriteLeaves[0]] : everyItem).Pick(random);
            sequence.Add(current);
            while (sequence.Count < length)
            {
                var roll = random.NextDouble();
                int next;
                if (roll < options.CoPurchaseProbability && partners[current].Length > 0)
                    next = partners[current][random.Next(partners[current].Length)];
                else if (roll < options.CoPurchaseProbability + options.SameLeafProbability)
                {
                    var sameBrand = brandPools[(itemLeaf[current], itemBrand[current])];
                    next = (sameBrand.Count > 1 && random.NextDouble() < 0.5 ? sameBrand : leafPools[itemLeaf[current]]).Pick(random);
                }
                else if (roll < options.CoPurchaseProbability + options.SameLeafProbability + options.PopularProbability)
                    next = popularOrder[random.Next(Math.Min(50, popularOrder.Length))];
                else
                {
                    var leaf = favouriteLeaves[random.Next(favouriteLeaves.Length)];
                    next = byLeaf[leaf].Count > 0 ? leafPools[leaf].Pick(random) : popularOrder[0];
                }
                if (next == current && byLeaf[itemLeaf[current]].Count > 1)
                    continue;
                sequence.Add(next);
                current = next;
            }
            onUser(new UserSequence(UserId(u), [.. sequence.Select(ItemId)]));
        }
    }

    /// <summary>The generated item's id: <c>P</c> and its number, six digits at least.</summary>
    public static string ItemId(int index) => $"P{index:D6}";

    /// <summary>The generated user's id: <c>U</c> and its number, five digits at least.</summary>
    public static string UserId(int index) => $"U{index:D5}";

    private static CatalogItem MakeItem(Random random, int index, Department department, LeafCategory leaf, string brand)
    {
        var noun = leaf.Nouns[random.Next(leaf.Nouns.Length)];
        var adjective = department.Adjectives[random.Next(department.Adjectives.Length)];
        var second = department.Adjectives[random.Next(department.Adjectives.Length)];
        var title = second == adjective ? $"{brand} {adjective} {noun}" : $"{brand} {adjective} {second} {noun}";
        if (random.NextDouble() < 0.3)
            title += $", {SyntheticVocabulary.Variants[random.Next(SyntheticVocabulary.Variants.Length)]}";
        var benefit = department.Benefits[random.Next(department.Benefits.Length)];
        var description = $"A {adjective} {noun} from {brand} that {benefit}. Part of our {leaf.Name.ToLowerInvariant()} range.";
        var price = Math.Round((decimal)(department.PriceMedian * Math.Exp(0.5 * NextGaussian(random))), 2);
        return new CatalogItem(
            ItemId: ItemId(index),
            Title: title,
            Description: description,
            Brand: brand,
            Price: Math.Max(price, 0.99m),
            Categories: [[department.Name, leaf.Name]]);
    }

    private static string[][] MakeBrands(Random random, int perDepartment) =>
        [.. SyntheticVocabulary.Departments.Select(d => Enumerable.Range(0, perDepartment)
            .Select(b => d.BrandStems[b % d.BrandStems.Length] + SyntheticVocabulary.BrandSuffixes[(b / d.BrandStems.Length + random.Next(3)) % SyntheticVocabulary.BrandSuffixes.Length]
                         + (b >= d.BrandStems.Length * SyntheticVocabulary.BrandSuffixes.Length ? (b + 1).ToString(CultureInfo.InvariantCulture) : string.Empty))
            .Distinct()
            .ToArray())];

    private static double NextGaussian(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
